"""The one error type of the API: an HTTP status with the JSON body Marathon answers."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(body.get("message") if isinstance(body, dict) else str(body))
        self.status = int(status)
        self.body = body
        self.headers = headers or {}


def not_found_app(app_id: str, details: bool = True) -> ApiError:
    # Resource lookups add "details": []; the exception paths (PATCH, DELETE, restart) do not.
    body = {"message": f"App '{app_id}' does not exist"}
    if details:
        body["details"] = []
    return ApiError(404, body)
