"""Test-only helpers of the localmarathon suite (not part of the localmarathon package).

``tests/`` is on ``sys.path`` when pytest runs the suite (its conftest.py sits there), so the
tests write ``from support import raml``; bench scripts add ``localmarathon/tests`` to ``sys.path``.
"""
