"""How Labelbox errors become Airflow task failures.

Errors a retry cannot fix (a bad key, a bad request, bad input) fail the task at once with
`AirflowFailException`; everything else propagates and Airflow's retries apply. A task that fails
over rejected items lists them the same way everywhere (`listed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client.errors import (
    AuthenticationError,
    AuthorizationError,
    CannotTellError,
    DataRowSpecError,
    InvalidQueryError,
    UnprocessableError,
)

LISTED = 50  # rejected items a task failure lists (every one of them is in the task log)

_PERMANENT = (
    AuthenticationError,
    AuthorizationError,
    InvalidQueryError,
    UnprocessableError,
    DataRowSpecError,
    CannotTellError,  # a person has to choose between two objects of one name
)


@contextmanager
def fail_fast_on(*extra: type[BaseException]) -> Iterator[None]:
    """Turn permanent errors (and `extra` kinds) into non-retryable failures with the same message."""
    catch: tuple[type[BaseException], ...] = (*_PERMANENT, *extra)
    try:
        yield
    except catch as error:
        raise AirflowFailException(str(error)) from None


@contextmanager
def checking_arguments() -> Iterator[None]:
    """Around the reading of an operator's own arguments only (a global key prefix, a round key,
    ids, numbers): a mistake there is the DAG's to fix, and a retry would only repeat it, so it
    fails the task at once. Never around the work itself: a `ValueError` raised while talking to
    Labelbox keeps Airflow's retries."""
    with fail_fast_on(ValueError, TypeError):
        yield


def listed(items: Sequence[str], where_the_rest_are: str) -> str:
    """The first `LISTED` items as an indented list for a failure message, and how many more
    there are and where to find them: a failure over 10,000 rows stays readable."""
    lines = "\n".join(f"  - {item}" for item in items[:LISTED])
    more = len(items) - LISTED
    return lines + (f"\n  ... and {more} more ({where_the_rest_are})" if more > 0 else "")
