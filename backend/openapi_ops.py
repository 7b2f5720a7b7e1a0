"""What the operations settings add to the OpenAPI document: the API key scheme and 401, the rate limit's 429, and
GET /metrics, each only when the running server has it switched on."""

from __future__ import annotations

from typing import Any, Mapping

PROTECTED = ("/predict", "/models")
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def problem(description: str) -> dict[str, Any]:
    """A problem+json response object."""
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def protected_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of /predict and /models, at / and under /api."""
    return [operation for path, item in document["paths"].items() if path.removeprefix("/api") in PROTECTED
            for operation in item.values()]


def with_operations(document: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The document with the key, limit and metrics parts this configuration switches on."""
    if config.get("API_KEYS") or config.get("API_KEYS_FILE"):
        document["components"]["securitySchemes"] = SECURITY_SCHEMES
        for operation in protected_operations(document):
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
            operation["responses"]["401"] = problem("No valid API key.")
    if config.get("RATE_LIMIT"):
        for operation in protected_operations(document):
            operation["responses"]["429"] = {**problem(f"Over the rate limit ({config['RATE_LIMIT']}); see Retry-After."),
                                             "headers": {"Retry-After": {"schema": {"type": "integer"}}}}
    if config.get("METRICS", True):
        document["paths"]["/metrics"] = {"get": {"summary": "Prometheus metrics (never behind the API key)",
                                                 "responses": {"200": {"description": "Prometheus text format.",
                                                                       "content": {"text/plain": {}}}}}}
    return document
