"""Creates that are safe when their answer is lost: get-or-create by name, create by name.

A create whose answer was cut off, or whose connection broke after it was sent, may or may not have
happened (`ambiguous`). `Transport.resolve` then looks for what it made before sending it again;
here that look-up is "the objects of this name that were not there before". Labelbox names are not
unique, so when more than one new object of the name turned up (another writer at the same time),
the call cannot tell which one it made and says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_mmc_provider.client.errors import CannotTellError
from airflow_mmc_provider.client.lookup import N, oldest
from airflow_mmc_provider.client.transport import Transport


def create_named(
    transport: Transport,
    kind: str,
    name: str,
    find_all: Callable[[], list[N]],
    create: Callable[[], N],
    *,
    before: list[N] | None = None,
) -> N:
    """Create one object named like the ones `find_all` lists, exactly once even if answers are lost.

    `before` is what `find_all` gave before the create (looked up here when not given), so that
    an object found afterwards is known to be this call's.
    """
    what = f"{kind} {name!r}"
    known = {found.id for found in (find_all() if before is None else before)}

    def made() -> N | None:
        new = [found for found in find_all() if found.id not in known]
        if len(new) > 1:
            ids = ", ".join(found.id for found in new)
            raise CannotTellError(
                f"the answer to creating {what} was lost and {len(new)} new ones of that name exist now "
                f"({ids}); another writer created one at the same time, so this call cannot tell which is "
                "its own: keep one, delete the others, and run again",
                operation=f"create {what}",
            )
        return new[0] if new else None

    return transport.resolve(create, made)


def find_or_create(
    transport: Transport, kind: str, name: str, find_all: Callable[[], list[N]], create: Callable[[], N]
) -> tuple[N, bool]:
    """Return (object, created): the oldest object `name` names (`lookup.oldest`), else one made
    by `create_named`."""
    existing = oldest(find_all(), f"{kind}s")
    if existing is not None:
        return existing, False
    return create_named(transport, kind, name, find_all, create, before=[]), True
