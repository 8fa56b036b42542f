"""Small shared helpers: ids and query booleans."""

from __future__ import annotations

import uuid


def safe_app_id(app_id: str) -> str:
    """'/prod/db' → 'prod_db', the form embedded in task and instance ids."""
    return app_id.strip("/").replace("/", "_")


def new_uuid() -> str:
    return str(uuid.uuid4())


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Jersey's Boolean.valueOf: 'true' in any case is true, anything else false."""
    if value is None:
        return default
    return value.strip().lower() == "true"
