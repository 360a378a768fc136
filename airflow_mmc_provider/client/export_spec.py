"""Export parameters and filters, validated and serialised exactly as the wire expects.

Everything here fails before any request: bad dates, both id filters at once, empty or oversized id
lists, unknown workflow states. Dates may be strings in the formats Labelbox documents
(`YYYY-MM-DD`, `YYYY-MM-DD hh:mm:ss`, ISO `YYYY-MM-DDThh:mm:ss±hhmm`) or datetime/pendulum values,
so Airflow's data interval plugs in directly. Unlike the official SDK, which replaces an ISO offset
with +0000 without converting the time, values with an offset are converted to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from typing import Any

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
    filters = dict(filters or {})
    known = set(_DATE_FILTERS) | set(_ID_FILTERS) | {"workflow_status"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise ExportSpecError(f"unknown export filter(s) {unknown}; known: {sorted(known)}")
    if filters.get("data_row_ids") is not None and filters.get("global_keys") is not None:
        raise ExportSpecError("export filters data_row_ids and global_keys are mutually exclusive; keep one")
    items: list[dict[str, Any]] = []
    for name, wire_type in _DATE_FILTERS.items():
        if filters.get(name):
            items.append(_date_item(name, wire_type, filters[name], user_timezone or "UTC"))
    for name, wire_type in _ID_FILTERS.items():
        if filters.get(name) is not None:
            items.append({"ids": _ids(name, filters[name]), "operator": "is", "type": wire_type})
    status = filters.get("workflow_status")
    if status:
        items.append(_workflow_item(status))
    return items


def needs_user_timezone(filters: Mapping[str, Any] | None) -> bool:
    """True when a date filter has a value without an offset (Labelbox reads it in the user's zone)."""
    for name in _DATE_FILTERS:
        for value in _bounds(name, (filters or {}).get(name)):
            if isinstance(value, str) and _parse_plain(value) is not None:
                return True
            if isinstance(value, date) and not isinstance(value, datetime):
                return True
    return False


def _date_item(name: str, wire_type: str, window: Any, user_timezone: str) -> dict[str, Any]:
    start, end = _bounds(name, window)
    if start is None and end is None:
        raise ExportSpecError(f"export filter {name} needs a start, an end or both")
    start_text, start_utc = _format_date(name, start)
    end_text, end_utc = _format_date(name, end)
    zone = "UTC" if (start is None or start_utc) and (end is None or end_utc) else user_timezone
    if start is not None and end is not None:
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
    ids = [str(v) for v in values]
    if not ids:
        raise ExportSpecError(f"export filter {name} is empty; give at least one id or drop the filter")
    if len(ids) > MAX_FILTER_IDS:
        raise ExportSpecError(
            f"export filter {name} has {len(ids)} ids; Labelbox accepts at most {MAX_FILTER_IDS} per export, "
            "so split the export"
        )
    return ids


def _workflow_item(status: Any) -> dict[str, Any]:
    if status not in WORKFLOW_STATUSES:
        raise ExportSpecError(
            f"export filter workflow_status is {status!r}; use one of {list(WORKFLOW_STATUSES)}"
        )
    if status == "ToLabel":
        return {"type": "task_queue_not_exist"}
    return {"type": "task_queue_status", "status": status}
