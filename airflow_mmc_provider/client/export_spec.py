"""Export parameters and filters, validated and serialised exactly as the wire expects.

Everything here fails before any request: bad dates, a window whose start is after its end, both id
filters at once, empty or oversized id lists, ids that are not non-empty strings (a `None` from an
upstream task that pushed nothing, a number, a NaN from a spreadsheet), unknown workflow states: such
filters would otherwise select nothing and give an empty export that fails only one task later. Dates may be strings in the formats Labelbox documents
(`YYYY-MM-DD`, `YYYY-MM-DD hh:mm:ss`, ISO `YYYY-MM-DDThh:mm:ss±hhmm`) or datetime/pendulum values,
so Airflow's data interval plugs in directly. Unlike the official SDK, which replaces an ISO offset
with +0000 without converting the time, values with an offset are converted to UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_FILTER_IDS = 2000
WORKFLOW_STATUSES = ("ToLabel", "InReview", "InRework", "Done")
_PLAIN_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
_DATE_FILTERS = {"last_activity_at": "data_row_last_activity_at", "label_created_at": "labeled_at"}
_ID_FILTERS = {"data_row_ids": "data_row_id", "global_keys": "global_key", "batch_ids": "batch"}

DateValue = str | datetime | date | None


class ExportSpecError(ValueError):
    """An export parameter or filter is invalid; raised before anything is sent."""


@dataclass(frozen=True)
class ExportParams:
    """What each exported line includes (all off by default, as in the SDK)."""

    attachments: bool = False
    embeddings: bool = False
    metadata_fields: bool = False
    data_row_details: bool = False
    project_details: bool = False
    performance_details: bool = False
    label_details: bool = False
    interpolated_frames: bool = False
    media_type_override: str | None = None

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any] | None) -> ExportParams:
        """Accept the SDK's params dict; unknown keys are an error here (the SDK drops them silently)."""
        params = dict(params or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ExportSpecError(f"unknown export parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**params)

    def to_wire(self) -> dict[str, Any]:
        return {
            "mediaTypeOverride": self.media_type_override,
            "includeAttachments": self.attachments,
            "includeEmbeddings": self.embeddings,
            "includeMetadata": self.metadata_fields,
            "includeDataRowDetails": self.data_row_details,
            "includeProjectDetails": self.project_details,
            "includePerformanceDetails": self.performance_details,
            "includeLabelDetails": self.label_details,
            "includeInterpolatedFrames": self.interpolated_frames,
        }


def search_query(filters: Mapping[str, Any] | None, user_timezone: str | None = None) -> list[dict[str, Any]]:
    """The `searchQuery.query` items for a project export (wire reference 7.2).

    `user_timezone` is used for dates written without an offset, as Labelbox interprets them in
    the user's time zone; call `needs_user_timezone` first to know whether to look it up.
    """
    filters = filters_mapping(filters)
    known = set(_DATE_FILTERS) | set(_ID_FILTERS) | {"workflow_status"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise ExportSpecError(f"unknown export filter(s) {unknown}; known: {sorted(known)}")
    if filters.get("data_row_ids") is not None and filters.get("global_keys") is not None:
        raise ExportSpecError("export filters data_row_ids and global_keys are mutually exclusive; keep one")
    items: list[dict[str, Any]] = []
    for name, wire_type in _DATE_FILTERS.items():
        if filters.get(name):
            items.append(_date_item(name, wire_type, filters[name], user_timezone))
    for name, wire_type in _ID_FILTERS.items():
        if filters.get(name) is not None:
            items.append({"ids": _ids(name, filters[name]), "operator": "is", "type": wire_type})
    status = filters.get("workflow_status")
    if status:
        items.append(_workflow_item(status))
    return items


def filters_mapping(filters: Any) -> dict[str, Any]:
    """The filters as a dict; anything but a mapping (such as the string "batch_ids=1") is refused."""
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise ExportSpecError(
            f"export filters must be a mapping of filter name to value, such as "
            f"{{'batch_ids': ['<batch id>']}} or {{'last_activity_at': ['2026-11-01', '2026-11-02']}}; "
            f"got the {type(filters).__name__} {filters!r}"
        )
    return dict(filters)


def needs_user_timezone(filters: Mapping[str, Any] | None) -> bool:
    """True when a date filter has a value without an offset (Labelbox reads it in the user's zone)."""
    for name in _DATE_FILTERS:
        for value in _bounds(name, filters_mapping(filters).get(name)):
            if isinstance(value, str) and _parse_plain(value) is not None:
                return True
            if isinstance(value, date) and not isinstance(value, datetime):
                return True
    return False


def _date_item(name: str, wire_type: str, window: Any, user_timezone: str | None) -> dict[str, Any]:
    start, end = _bounds(name, window)
    if start is None and end is None:
        raise ExportSpecError(f"export filter {name} needs a start, an end or both")
    start_text, start_utc = _format_date(name, start)
    end_text, end_utc = _format_date(name, end)
    zone = "UTC" if (start is None or start_utc) and (end is None or end_utc) else user_timezone or "UTC"
    if start is not None and end is not None and (user_timezone is not None or start_utc == end_utc):
        # One bound with an offset and one without are only ordered in the user's zone: unknown
        # here (a check before any request), that order is judged once the zone is looked up.
        _check_order(name, start, end, user_timezone or "UTC")
        value: dict[str, Any] = {
            "operator": "BETWEEN",
            "timezone": zone,
            "value": {"min": start_text, "max": end_text},
        }
    elif start is not None:
        value = {"operator": "GREATER_THAN_OR_EQUAL", "timezone": zone, "value": start_text}
    else:
        value = {"operator": "LESS_THAN_OR_EQUAL", "timezone": zone, "value": end_text}
    return {"type": wire_type, "value": value}


def _bounds(name: str, window: Any) -> tuple[DateValue, DateValue]:
    if window is None:
        return None, None
    if isinstance(window, str | bytes) or not isinstance(window, Sequence) or len(window) != 2:
        raise ExportSpecError(f"export filter {name} must be a pair [start, end] (either may be None)")
    return window[0], window[1]


def _format_date(name: str, value: DateValue) -> tuple[str | None, bool]:
    """(wire text, is it UTC already); datetimes and offset strings become UTC ISO strings."""
    if value is None:
        return None, True
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime(_UTC_FORMAT), True
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d"), False
    if isinstance(value, str):
        if _parse_plain(value) is not None:
            return value, False
        parsed: datetime | None
        try:
            parsed = datetime.strptime(value, _ISO_FORMAT)
        except ValueError:
            parsed = _parse_isoformat(value)
        if parsed is None:
            raise ExportSpecError(
                f"export filter {name} has {value!r}; use YYYY-MM-DD, YYYY-MM-DD hh:mm:ss, "
                "YYYY-MM-DDThh:mm:ss±hhmm or a datetime"
            )
        return parsed.astimezone(timezone.utc).strftime(_UTC_FORMAT), True
    raise ExportSpecError(f"export filter {name} has a {type(value).__name__}; give a string or a datetime")


def _check_order(name: str, start: DateValue, end: DateValue, user_timezone: str) -> None:
    """A window whose start is after its end selects nothing: refuse it rather than export nothing."""
    if _moment(start, user_timezone) > _moment(end, user_timezone):
        raise ExportSpecError(
            f"export filter {name} starts at {start!s} after it ends at {end!s}; give [start, end] "
            "with the start first"
        )


def _moment(value: DateValue, user_timezone: str) -> datetime:
    """An aware datetime for a checked bound; values without an offset are in the user's zone."""
    try:
        zone: Any = ZoneInfo(user_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    text = str(value)
    plain = _parse_plain(text)
    if plain is not None:
        return plain.replace(tzinfo=zone)
    try:
        return datetime.strptime(text, _ISO_FORMAT)
    except ValueError:
        parsed = _parse_isoformat(text)
        assert parsed is not None  # _format_date has refused anything else
        return parsed


def _parse_isoformat(text: str) -> datetime | None:
    """Rendered Airflow templates such as `{{ data_interval_start }}` give `...+00:00` forms."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _parse_plain(text: str) -> datetime | None:
    for fmt in _PLAIN_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _ids(name: str, values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ExportSpecError(f"export filter {name} must be a list of ids")
    ids = [_id(name, position, value) for position, value in enumerate(values)]
    if not ids:
        raise ExportSpecError(f"export filter {name} is empty; give at least one id or drop the filter")
    if len(ids) > MAX_FILTER_IDS:
        raise ExportSpecError(
            f"export filter {name} has {len(ids)} ids; Labelbox accepts at most {MAX_FILTER_IDS} per export, "
            "so split the export"
        )
    return ids


def _id(name: str, position: int, value: Any) -> str:
    """One id, a non-empty string: `None`, `''`, numbers and NaN would match no row at all."""
    if isinstance(value, str) and value.strip():
        return value
    if value is None:
        why = "None (a templated id that rendered to None: did the upstream task push it?)"
    elif isinstance(value, str):
        why = f"the empty string {value!r}"
    else:
        why = f"the {type(value).__name__} {value!r}"
    fix = f"quote it: {str(value)!r}" if isinstance(value, int) and not isinstance(value, bool) else "drop it"
    raise ExportSpecError(
        f"export filter {name}[{position}] is {why}; ids are non-empty strings as Labelbox shows them ({fix})"
    )


def _workflow_item(status: Any) -> dict[str, Any]:
    if status not in WORKFLOW_STATUSES:
        raise ExportSpecError(
            f"export filter workflow_status is {status!r}; use one of {list(WORKFLOW_STATUSES)}"
        )
    if status == "ToLabel":
        return {"type": "task_queue_not_exist"}
    return {"type": "task_queue_status", "status": status}


def nothing_selected(export_id: str, filters: Mapping[str, Any] | None) -> str:
    """Why an export came back empty, naming the filters that selected nothing (None: not known
    here, as in a sensor), and the two fixes."""
    named = [f"{name}={json.dumps(value, default=str)}" for name, value in (filters or {}).items()]
    if filters is None:
        which = "the filters of the task that started it selected nothing"
    elif not named:
        which = "the project has no data rows (the export had no filters)"
    elif len(named) == 1:
        which = f"the filter {named[0]} selected nothing"
    else:
        which = f"the filters {' and '.join(named)} together selected nothing"
    return (
        f"Labelbox export {export_id} has no rows: {which}. Check the values; where an empty export "
        "is normal (a scheduled incremental export of an interval without activity), pass allow_empty=True"
    )
