"""The API object: routers, the OpenAPI document, and every error as problem+json."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from . import catalogue, destinations, exports, intake, keys, leads, lists, sources, uploads
from .parser import StorableTextParser
from .problems import PROBLEM_CONTENT_TYPE, Problem

log = logging.getLogger(__name__)


class LeadgateAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Error responses are documented as what they are: application/problem+json."""
        schema = super().get_openapi_schema(*args, **kwargs)
        problem = {"$ref": "#/components/schemas/ProblemSchema"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                # Any request may be malformed below the endpoint (a NUL in the URL, a bad Content-Length).
                operation.setdefault("responses", {}).setdefault(
                    "400",
                    {"description": "Bad Request", "content": {PROBLEM_CONTENT_TYPE: {"schema": problem}}},
                )
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = LeadgateAPI(
    title="leadgate API",
    version="1",
    description=(
        "Post leads to a source with its ingestion key (`Authorization: Bearer lgk_…`) and get each "
        "lead's decision back; manage sources, lists and leads with a personal token (`lgt_…`), "
        "within your role. Errors are `application/problem+json` with a stable `code`."
    ),
    urls_namespace="api",
    parser=StorableTextParser(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

for module in (intake, sources, leads, destinations, lists, keys, uploads, exports, catalogue):
    api.add_router("/", module.router)


@api.exception_handler(Problem)
def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return exc.response()


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "pointer": "/" + "/".join(str(part) for part in error.get("loc", ())[1:]),
            "message": str(error.get("msg", "is not valid")),
        }
        for error in exc.errors
    ]
    first = errors[0] if errors else {"pointer": "/", "message": "is not valid"}
    return Problem(
        422, "invalid_request", f"{first['pointer']}: {first['message']}", errors=errors
    ).response()


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return Problem(
        401,
        "not_authenticated",
        "Send a valid key: Authorization: Bearer lgk_… (ingestion key) or lgt_… (personal token).",
        headers={"WWW-Authenticate": "Bearer"},
    ).response()


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return Problem(exc.status_code, "http_error", str(exc.message)).response()


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return Problem(404, "not_found", str(exc) or "Not found.").response()


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return Problem(413, "body_too_large", "The request body is too large.").response()


@api.exception_handler(Exception)
def _internal(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path)
    return Problem(500, "internal_error", "leadgate failed on this request; the error is logged.").response()
