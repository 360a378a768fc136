"""From SQLite rows to the store's frozen dataclasses, and the small SQL helpers every resource uses.

One mapper for every resource: a dataclass's field types say how a column is read back (text and
numbers as stored, `bool` from SQLite's 0/1, anything structured, a list, a dict or `Any`, from
its JSON text), and a field whose column has another name says so in its metadata
(``field(metadata={"column": "input"})``). A new column is then one field, not one more mapper.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import msgspec

_encoder = msgspec.json.Encoder()

# SQLite allows at most 999 bound parameters in older builds; stay well below it.
IN_BATCH = 500

_Record = TypeVar("_Record")
_Reader = Callable[[Any], Any]
_PLAIN = (str, int, float)


def dumps(value: Any) -> str:
    """Compact JSON text (msgspec: an upsert encodes tens of thousands of values at once)."""
    if isinstance(value, list) and not value:
        return "[]"
    return _encoder.encode(value).decode("utf-8")


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _reader(hint: Any) -> _Reader | None:
    """How a column of this type is read back; None when the stored value is the value."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        hint = options[0] if len(options) == 1 else Any
    if hint is bool:
        return bool
    if hint in _PLAIN:
        return None
    return _loads


_Columns = tuple[tuple[str, str, _Reader | None], ...]
_mappings: dict[type, _Columns] = {}


def _columns(cls: type) -> _Columns:
    """(field, column, reader) of each field of `cls`, worked out once per class."""
    found = _mappings.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple(
            (f.name, f.metadata.get("column", f.name), _reader(hints[f.name]))
            for f in dataclasses.fields(cls)
            if f.init
        )
        _mappings[cls] = found
    return found


def from_row(cls: type[_Record], row: sqlite3.Row) -> _Record:
    """The dataclass `cls` holding `row` (columns not among its fields are ignored)."""
    values = {
        name: (row[column] if read is None else read(row[column])) for name, column, read in _columns(cls)
    }
    return cls(**values)


def fetch_one(
    db: sqlite3.Connection, cls: type[_Record], query: str, params: tuple[Any, ...]
) -> _Record | None:
    """The dataclass `cls` holding the first row `query` finds, or None when it finds none."""
    row = db.execute(query, params).fetchone()
    return None if row is None else from_row(cls, row)


def from_rows(cls: type[_Record], rows: Sequence[sqlite3.Row]) -> list[_Record]:
    return [from_row(cls, row) for row in rows]


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """`values` in slices small enough to bind as one `IN (...)` list."""
    for start in range(0, len(values), IN_BATCH):
        yield values[start : start + IN_BATCH]


def marks(values: Sequence[Any]) -> str:
    """The `?, ?, ...` placeholders of an `IN (...)` list of these values."""
    return ",".join("?" * len(values))


def insert(db: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> None:
    """Insert one row given column -> value (each value beside its column's name, not by position)."""
    columns = ", ".join(values)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks(list(values))})", tuple(values.values()))  # noqa: S608


def check_filters(filters: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(filters) - allowed
    if unknown:
        raise ValueError(f"cannot filter on {sorted(unknown)}; allowed: {sorted(allowed)}")


class _SoftDeleted(Protocol):
    @property
    def deleted(self) -> bool: ...


_Kept = TypeVar("_Kept", bound=_SoftDeleted)


def created(found: _Record | None) -> _Record:
    """A row read back right after its insert committed, so it exists."""
    assert found is not None
    return found


@dataclass(frozen=True)
class Listing(Generic[_Kept]):
    """How a soft-deleted resource of the organisation is read: its dataclass, and its SELECT up to
    the WHERE (e.g. with a computed count), so getting one by id and listing by name are written once."""

    cls: type[_Kept]
    select: str
    order: str = "seq"  # oldest first

    def where(
        self, db: sqlite3.Connection, organization_id: str, condition: str, params: tuple[Any, ...]
    ) -> list[_Kept]:
        query = f"{self.select} WHERE organization_id = ? AND {condition} ORDER BY {self.order}"
        return from_rows(self.cls, db.execute(query, (organization_id, *params)).fetchall())

    def by_id(
        self, db: sqlite3.Connection, organization_id: str, entity_id: str, include_deleted: bool
    ) -> _Kept | None:
        """The one found by id, unless it is deleted (and deleted ones are not asked for)."""
        found = self.where(db, organization_id, "id = ?", (entity_id,))
        if not found or (found[0].deleted and not include_deleted):
            return None
        return found[0]

    def named(self, db: sqlite3.Connection, organization_id: str, name: str | None) -> list[_Kept]:
        """Every one (deleted ones too, flagged), oldest first, or those of one name."""
        if name is None:
            return self.where(db, organization_id, "1 = 1", ())
        return self.where(db, organization_id, "name = ?", (name,))


def select_in(
    db: sqlite3.Connection, query: str, values: Iterable[str], *params: Any
) -> Iterator[sqlite3.Row]:
    """The rows of `query` for each of `values` once: its ``{marks}`` is the ``IN (...)`` list,
    bound after `params`, and long lists are asked in chunks SQLite can bind."""
    for chunk in chunks(list(dict.fromkeys(values))):
        yield from db.execute(query.format(marks=marks(chunk)), (*params, *chunk)).fetchall()
