"""Errors a resolver raises, each carrying the ``extensions.code`` the Labelbox SDK dispatches on.

The SDK maps errors by ``extensions.code`` (and, for ``INTERNAL_SERVER_ERROR``, by
``extensions.exception.status``): see wire reference 1.4. Raising one of these from a resolver is
the only way the emulator reports a failure, so every error on the wire has a code.
"""

from __future__ import annotations

from typing import Any


class EmulatorError(Exception):
    """Base class: a message plus the GraphQL error code and optional HTTP-like status."""

    code = "INTERNAL_SERVER_ERROR"
    status: int | None = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, Any]:
        """The ``extensions`` object of the GraphQL error."""
        extensions: dict[str, Any] = {"code": self.code}
        if self.status is not None:
            extensions["exception"] = {"status": self.status, "message": self.message}
        return extensions


class NotFoundError(EmulatorError):
    """A referenced object does not exist (the SDK returns None and raises ResourceNotFoundError)."""

    code = "RESOURCE_NOT_FOUND"
    status = None


class InvalidInputError(EmulatorError):
    """Bad arguments: ``INTERNAL_SERVER_ERROR`` with status 400 (SDK: InvalidQueryError)."""

    status = 400


class UnprocessableError(EmulatorError):
    """Well-formed but unacceptable input: status 422 (SDK: UnprocessableEntityError)."""

    status = 422


class ConflictError(EmulatorError):
    """The request collides with existing state, e.g. a batch name taken (SDK: ResourceConflict)."""

    code = "RESOURCE_CONFLICT"
    status = 409


class AuthenticationFailed(EmulatorError):
    """Missing or wrong API key (SDK: AuthenticationError)."""

    code = "AUTHENTICATION_ERROR"
    status = None
