"""HTTP edge shared by the services.

- `errors`: every refusal in one shape, in the caller's language, and the one
  place a kind of refusal becomes an HTTP status;
- `unstorable`: text the database cannot store refused before any route;
- `openapi`: the refusals declared in the OpenAPI document;
- `deps`: the pool, language and Idempotency-Key dependencies;
- `health`: liveness and readiness.
"""

from mpp_shared.errors import Language
from mpp_shared.web.deps import (
    MAX_PAGE,
    PG_INT_MAX,
    IdempotencyKey,
    LanguageDep,
    PoolDep,
    get_pool,
    replayed,
)
from mpp_shared.web.errors import (
    ApiError,
    ErrorBody,
    FieldError,
    install_error_handlers,
    refusal_response,
    register_messages,
    request_language,
    status_of,
)
from mpp_shared.web.health import health_router
from mpp_shared.web.openapi import declare_errors, document_errors

__all__ = [
    "MAX_PAGE",
    "PG_INT_MAX",
    "ApiError",
    "ErrorBody",
    "FieldError",
    "IdempotencyKey",
    "Language",
    "LanguageDep",
    "PoolDep",
    "declare_errors",
    "document_errors",
    "get_pool",
    "health_router",
    "install_error_handlers",
    "refusal_response",
    "register_messages",
    "replayed",
    "request_language",
    "status_of",
]
