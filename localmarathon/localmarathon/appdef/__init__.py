"""Marathon 1.10's app definition: reading a request body, ids, normalization to the canonical
form, validation, resident-app rules and service ports. Pure functions, no I/O; each rule is pinned
by a test in localmarathon/tests.

``normalize.normalize_app`` runs the whole pipeline on a body and returns the canonical app;
``normalize.app_for_output`` adds the version fields for GET answers.
"""
