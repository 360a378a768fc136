"""The Labelbox API over `requests`, without Airflow: client, errors and small models."""

from __future__ import annotations

from airflow_mmc_provider.client.client import DEFAULT_APP_URL, LabelboxClient
from airflow_mmc_provider.client.errors import (
    ApiKeyFormatError,
    AuthenticationError,
    AuthorizationError,
    CannotTellError,
    ConflictError,
    DataRowSpecError,
    InvalidQueryError,
    LabelboxError,
    NetworkError,
    NotFoundError,
    OperationNotAllowedError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    UnprocessableError,
)
from airflow_mmc_provider.client.transport import DEFAULT_ENDPOINT, RetryPolicy

__all__ = [
    "DEFAULT_APP_URL",
    "DEFAULT_ENDPOINT",
    "ApiKeyFormatError",
    "AuthenticationError",
    "AuthorizationError",
    "CannotTellError",
    "ConflictError",
    "DataRowSpecError",
    "InvalidQueryError",
    "LabelboxClient",
    "LabelboxError",
    "NetworkError",
    "NotFoundError",
    "OperationNotAllowedError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnprocessableError",
]
