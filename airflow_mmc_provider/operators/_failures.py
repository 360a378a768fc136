"""How Labelbox errors become Airflow task failures.

Errors a retry cannot fix (a bad key, a bad request, bad input) fail the task at once with
`AirflowFailException`; everything else propagates and Airflow's retries apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client.errors import (
    AuthenticationError,
    AuthorizationError,
    DataRowSpecError,
    InvalidQueryError,
    UnprocessableError,
)

_PERMANENT = (
    AuthenticationError,
    AuthorizationError,
    InvalidQueryError,
    UnprocessableError,
    DataRowSpecError,
)


@contextmanager
def fail_fast_on() -> Iterator[None]:
    """Turn permanent errors into non-retryable failures with the same message."""
    try:
        yield
    except _PERMANENT as error:
        raise AirflowFailException(str(error)) from None
