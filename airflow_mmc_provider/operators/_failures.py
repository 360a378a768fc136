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
def fail_fast_on(*extra: type[BaseException]) -> Iterator[None]:
    """Turn permanent errors (and `extra` kinds) into non-retryable failures with the same message."""
    catch: tuple[type[BaseException], ...] = (*_PERMANENT, *extra)
    try:
        yield
    except catch as error:
        raise AirflowFailException(str(error)) from None
