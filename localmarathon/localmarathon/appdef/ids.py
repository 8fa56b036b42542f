"""App ids: absolute, slash-separated, each segment a DNS-like label; relative ids resolve against a
base, and the reserved endings restart/tasks/versions are refused."""

from __future__ import annotations

import re

from .schema import not_valid


ID_SEGMENT_PATTERN = r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$"
_ID_SEGMENT_RE = re.compile(ID_SEGMENT_PATTERN)
_RESERVED_ENDINGS = ("restart", "tasks", "versions", ".", "..")
_RESERVED_MSG = "must not end with any of the following reserved keywords: restart, tasks, versions, ., .."


def split_id(raw_id):
    return [s for s in raw_id.split("/") if s != ""]


def _resolve(segments, base_segments):
    out = list(base_segments)
    for seg in segments:
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return out


def id_violations(raw_id, path="/id", reserved_endings=True):
    """Semantic id checks on the id as written (before . / .. are resolved); ``reserved_endings``:
    whether the release refuses ids ending in restart/tasks/versions."""
    problems = []
    segments = split_id(raw_id)
    for seg in segments:
        # Java's String.matches: the whole segment must match the alternation.
        if not _ID_SEGMENT_RE.fullmatch(seg):
            problems.append((path, f"must fully match regular expression '{ID_SEGMENT_PATTERN}'"))
            break
    if reserved_endings and segments and segments[-1] in _RESERVED_ENDINGS[:3]:
        problems.append((path, _RESERVED_MSG))
    return problems


def canonical_id(raw_id, base="/"):
    """Absolute, canonical form of an app id: '/a/b', relative ids resolved against base.

    Raises 422 "Object is not valid" for ids Marathon refuses (bad segment,
    reserved ending, root).
    """
    if not isinstance(raw_id, str):
        raise not_valid([("/id", "error.expected.jsstring")])
    problems = id_violations(raw_id)
    base_segments = [] if raw_id.startswith("/") else split_id(base)
    segments = _resolve(split_id(raw_id), base_segments)
    if not segments:
        problems.append(("/id", "Path must contain at least one path element"))
        problems.append(("/", "must not be root"))
    if problems:
        raise not_valid(problems)
    return "/" + "/".join(segments)


def resolve_app_id(body_id, path_id, pairs, reserved_endings=True):
    raw = path_id if path_id is not None else body_id
    problems = id_violations(raw, reserved_endings=reserved_endings)
    pairs.extend(problems)
    segments = _resolve(split_id(raw), [])
    if not segments:
        pairs.append(("/id", "Path must contain at least one path element"))
        pairs.append(("/", "must not be root"))
        return "/"
    return "/" + "/".join(segments)


def absolute_id(raw_id):
    """``raw_id`` resolved against the root (. and .. applied), without any check."""
    return "/" + "/".join(_resolve(split_id(raw_id), []))
