"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``code`` for machines."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja import Schema

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSchema(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class Problem(Exception):
    """Raised anywhere in an endpoint; the API answers it as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str = "",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        body: dict[str, Any] = {
            "type": f"urn:leadgate:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = self.errors
        # "replace": a message may quote input with lone surrogates, which UTF-8 cannot carry.
        content = json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")
        response = HttpResponse(content, status=self.status, content_type=PROBLEM_CONTENT_TYPE)
        for name, value in self.headers.items():
            response[name] = value
        return response


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
}

#: Error responses every authenticated endpoint may give, for the OpenAPI document.
AUTH_ERRORS: dict[int, type[ProblemSchema]] = {401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema}
