"""The exceptions the client raises, and how Labelbox responses map onto them.

Callers (hooks, operators, notebooks) decide on these types alone: whether to retry, fail fast or
report a bad input. Every message names the GraphQL operation so a failing task log points at the
call that failed, and no message ever contains the API key or request headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LabelboxError(Exception):
    """Base class: a Labelbox call failed.

    `retryable` says whether the same request may succeed later (rate limit, server or network
    trouble). `ambiguous` says the request may already have taken effect on the server (the answer
    was lost after it was sent), which matters for mutations that are not idempotent.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        ambiguous: bool = False,
    ) -> None:
        self.message = message
        self.operation = operation
        self.status_code = status_code
        self.code = code
        self.ambiguous = ambiguous
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"Labelbox {self.operation}" if self.operation else "Labelbox"
        detail = [f"HTTP {self.status_code}"] if self.status_code else []
        if self.code:
            detail.append(self.code)
        suffix = f" [{', '.join(detail)}]" if detail else ""
        return f"{where}: {self.message}{suffix}"


class AuthenticationError(LabelboxError):
    """The API key is missing, wrong or revoked; retrying cannot help."""


class ApiKeyFormatError(AuthenticationError, ValueError):
    """The API key cannot be sent as it is (empty, white space or a line break, a character an HTTP
    header cannot carry); raised when the client is built, before any request (`credentials`)."""


class AuthorizationError(LabelboxError):
    """The key is valid but may not do this (role, organisation or plan limits)."""


class OperationNotAllowedError(AuthorizationError):
    """Labelbox refused the operation for this account, e.g. a usage (LBU) limit."""


class NotFoundError(LabelboxError):
    """The dataset, project, task or other object does not exist (or is not visible to the key)."""


class ConflictError(LabelboxError):
    """The object already exists or is in a state that forbids the change."""


class InvalidQueryError(LabelboxError):
    """The request itself is wrong: GraphQL syntax or validation, or a malformed argument."""


class UnprocessableError(LabelboxError):
    """The request is well formed but its content was rejected (HTTP 422 semantics)."""


class BatchMismatchError(UnprocessableError):
    """A batch of this name exists in the project with other data rows than the ones asked for."""


class CannotTellError(LabelboxError):
    """A create's answer was lost and the look-up cannot tell which object it made (two new objects
    of one name appeared: Labelbox names are not unique); a person has to pick one, so it is not
    retryable."""


class RateLimitError(LabelboxError):
    """Too many requests; `retry_after` carries the server's hint in seconds when it gave one."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(LabelboxError):
    """Labelbox or a gateway in front of it failed (5xx)."""

    def __init__(self, message: str, *, retryable: bool = True, **kwargs: Any) -> None:
        self.retryable = retryable
        super().__init__(message, **kwargs)


class NetworkError(LabelboxError):
    """No usable answer arrived: connection refused or dropped, DNS, TLS or a timeout."""

    retryable = True


class TaskFailedError(LabelboxError):
    """A Labelbox background task (upsert, batch, export) ended in FAILED or CANCELED."""


class TaskTimeoutError(LabelboxError):
    """A Labelbox background task did not finish within the time we were willing to wait."""


class DataRowSpecError(ValueError):
    """Rows handed to an upload are invalid; raised before anything is uploaded.

    Holds every problem found, each naming the row, the field and the fix.
    """

    def __init__(self, problems: list[str], *, shown: int = 50) -> None:
        self.problems = problems
        lines = problems[:shown]
        more = len(problems) - len(lines)
        text = "\n".join(f"  - {p}" for p in lines)
        if more > 0:
            text += f"\n  ... and {more} more problem(s)"
        super().__init__(f"{len(problems)} invalid data row(s), nothing was uploaded:\n{text}")


# --- mapping of GraphQL error payloads ------------------------------------------------------------

_CODE_TO_ERROR: dict[str, type[LabelboxError]] = {
    "AUTHENTICATION_ERROR": AuthenticationError,
    "AUTHORIZATION_ERROR": AuthorizationError,
    "GRAPHQL_VALIDATION_FAILED": InvalidQueryError,
    "GRAPHQL_PARSE_FAILED": InvalidQueryError,
    "MALFORMED_REQUEST": InvalidQueryError,
    "RESOURCE_NOT_FOUND": NotFoundError,
    "RESOURCE_CONFLICT": ConflictError,
    "OPERATION_NOT_ALLOWED": OperationNotAllowedError,
}

_EMBEDDED_STATUS_TO_ERROR: dict[int, type[LabelboxError]] = {
    400: InvalidQueryError,
    422: UnprocessableError,
    426: OperationNotAllowedError,
}

_AUTH_HINT = "Labelbox rejected the API key; put a valid key in the password field of the Labelbox connection"


def error_from_graphql(errors: list[Any], *, operation: str, status_code: int | None = None) -> LabelboxError:
    """Turn the `errors` array of a GraphQL response into one exception.

    Codes are checked in the order the official SDK checks them, so a response carrying several
    errors maps to the same kind of failure the SDK would report.
    """
    first = _first_error(errors)
    codes = [_code_of(e) for e in errors if isinstance(e, Mapping)]
    message = _messages(errors)
    for code in _CODE_TO_ERROR:
        if code in codes:
            if code == "AUTHENTICATION_ERROR":
                message = _AUTH_HINT
            return _CODE_TO_ERROR[code](message, operation=operation, status_code=status_code, code=code)
    if "INTERNAL_SERVER_ERROR" in codes:
        return _internal_server_error(first, message, operation=operation, status_code=status_code)
    return LabelboxError(message, operation=operation, status_code=status_code, code=_code_of(first) or None)


def _internal_server_error(
    error: Mapping[str, Any], message: str, *, operation: str, status_code: int | None
) -> LabelboxError:
    """Labelbox wraps application errors in INTERNAL_SERVER_ERROR with the real status inside."""
    exception = (error.get("extensions") or {}).get("exception") or {}
    try:
        embedded = int(exception.get("status", 500))
    except (TypeError, ValueError):
        embedded = 500
    kind = _EMBEDDED_STATUS_TO_ERROR.get(embedded)
    code = "INTERNAL_SERVER_ERROR"
    if kind is not None:
        return kind(message, operation=operation, status_code=status_code, code=code)
    # A plain 500 is an application error that repeats on retry (the SDK stopped retrying it);
    # any other embedded status (503, 504...) is transient.
    return ServerError(
        message, operation=operation, status_code=status_code, code=code, retryable=embedded != 500
    )


def error_from_http_status(
    status_code: int,
    body_message: str | None,
    *,
    operation: str,
    retry_after: float | None = None,
) -> LabelboxError:
    """Map an HTTP failure that carried no usable GraphQL `errors` array."""
    text = body_message or f"HTTP {status_code}"
    if status_code == 429 or (body_message or "").startswith("You have exceeded"):
        return RateLimitError(text, operation=operation, status_code=status_code, retry_after=retry_after)
    if status_code >= 500:
        return ServerError(text, operation=operation, status_code=status_code)
    if status_code == 401:
        return AuthenticationError(_AUTH_HINT, operation=operation, status_code=status_code)
    if status_code == 403:
        return AuthorizationError(text, operation=operation, status_code=status_code)
    if status_code == 404:
        return NotFoundError(text, operation=operation, status_code=status_code)
    if status_code == 409:
        return ConflictError(text, operation=operation, status_code=status_code)
    if status_code == 422:
        return UnprocessableError(text, operation=operation, status_code=status_code)
    return InvalidQueryError(text, operation=operation, status_code=status_code)


def _first_error(errors: list[Any]) -> Mapping[str, Any]:
    for error in errors:
        if isinstance(error, Mapping):
            return error
    return {}


def _code_of(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions")
    if isinstance(extensions, Mapping):
        return str(extensions.get("code") or "")
    return ""


def _messages(errors: list[Any]) -> str:
    texts = []
    for error in errors:
        text = error.get("message") if isinstance(error, Mapping) else str(error)
        if text and text not in texts:
            texts.append(str(text))
    return "; ".join(texts) or "unknown error"
