"""Data-row upserts (`upsertDataRows`): read the manifest, check every spec, apply them in one go.

Semantics follow the service as the SDK's integration tests describe it (wire reference 3.2-3.4):

* ``AUTO`` creates; a global key already in use, or used earlier in the same request, makes that
  spec fail with ``Duplicate global key: '<key>'`` (so of two identical keys one row is created).
* ``GKEY`` upserts by global key: creates the row when the key is free, otherwise updates it in
  place (same id); the same key twice in one request fails the second spec as a duplicate.
* ``ID`` updates an existing row by id; an unknown id fails that spec.

A bad spec never fails the task: it becomes a failed row with a message that says what to fix, and
the task still ends ``COMPLETE``. Only an unreadable manifest or chunk fails the whole task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import msgspec

from airflow_mmc_provider.emulator.ids import new_id
from airflow_mmc_provider.emulator.metadata import MetadataError, SchemaIndex
from airflow_mmc_provider.emulator.store import (
    COMPLETE,
    FAILED,
    DataRowUpdate,
    DataRowWriter,
    FailedRow,
    NewDataRow,
    RowRef,
    Store,
    Task,
)
from airflow_mmc_provider.emulator.store.upserts import RowFields

TASK_TYPE = "adv-upsert-data-rows"
TASK_NAME = "Upsert data rows"

# The SDK's own allow-list (DataRow field names plus its extra keys; wire reference 3.2).
ALLOWED_PAYLOAD_KEYS = frozenset(
    {
        "row_data", "external_id", "global_key", "metadata_fields", "metadata", "media_attributes",
        "created_at", "updated_at", "uid", "attachments", "media_type", "dataset_id", "embeddings",
    }
)  # fmt: skip
KEY_TYPES = ("AUTO", "GKEY", "ID")
ATTACHMENT_TYPES = frozenset(
    {"AUDIO", "VIDEO", "IMAGE", "IMAGE_OVERLAY", "HTML", "RAW_TEXT", "TEXT_URL", "PDF_URL", "CAMERA_IMAGE"}
)
MAX_GLOBAL_KEY_LENGTH = 200
MAX_ROW_DATA_CHARS = 2_621_440  # docs: maximum size of inline (local) row data
_encoder = msgspec.json.Encoder()
_ALL = 2**62
_FILE_PATH = re.compile(r"^/files/([A-Za-z0-9_-]+)$")


class SpecError(ValueError):
    """One spec cannot be applied; the message is what the client sees for that row."""


class ManifestError(RuntimeError):
    """The manifest or one of its chunks cannot be read: the whole task fails."""


@dataclass(frozen=True)
class ParsedSpec:
    key_type: str
    key_value: str
    fields: RowFields


@dataclass
class UpsertOutcome:
    """What an upsert did, in request order."""

    created: list[NewDataRow] = field(default_factory=list)
    updated: list[DataRowUpdate] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)
    failed: list[FailedRow] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "createdDataRows": len(self.created),
            "updatedDataRows": len(self.updated),
            "failedDataRows": len(self.failed),
        }


# --- reading the manifest ------------------------------------------------------------------------


def resolve_file_url(store: Store, url: str) -> bytes:
    """The bytes behind a URL this emulator handed out; no HTTP, and nothing foreign is fetched."""
    if not isinstance(url, str):
        raise ManifestError(f"expected a file URL string, got {type(url).__name__}")
    parts = urlsplit(url)
    match = _FILE_PATH.match(parts.path)
    stored = store.get_file(match.group(1)) if match and parts.scheme in ("http", "https") else None
    if stored is None or stored.netloc != parts.netloc:
        raise ManifestError(
            f"cannot read {url!r}: the emulator only reads files uploaded to it with uploadFile "
            "(it makes no outbound requests)"
        )
    return store.read_file(stored.id)


def read_specs(store: Store, manifest_uri: str) -> list[Any]:
    """Every spec of every chunk named by the manifest, in manifest order."""
    manifest = _json_document(resolve_file_url(store, manifest_uri), "manifest", manifest_uri)
    chunk_uris = manifest.get("chunk_uris") if isinstance(manifest, dict) else None
    if not isinstance(chunk_uris, list):
        raise ManifestError(
            f"manifest {manifest_uri} must be a JSON object with a 'chunk_uris' list "
            '({"source": ..., "item_count": ..., "chunk_uris": [...]})'
        )
    specs: list[Any] = []
    for uri in chunk_uris:
        chunk = _json_document(resolve_file_url(store, uri), "chunk", uri)
        if not isinstance(chunk, list):
            raise ManifestError(f"chunk {uri} must be a JSON array of data row specs")
        specs.extend(chunk)
    return specs


def _json_document(content: bytes, what: str, url: str) -> Any:
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError as exc:
        raise ManifestError(f"{what} {url} is not valid JSON ({exc})") from None


# --- validating one spec -------------------------------------------------------------------------


def parse_spec(raw: Any) -> ParsedSpec:
    """Check a spec's shape and payload; raise SpecError with the fix in the message."""
    if not isinstance(raw, dict) or not isinstance(raw.get("payload"), dict):
        raise SpecError('each spec must be an object {"id": {"type", "value"}, "payload": {...}}')
    key = raw.get("id") or {"type": "AUTO", "value": ""}
    key_type = key.get("type") if isinstance(key, dict) else None
    if key_type not in KEY_TYPES:
        raise SpecError(f"id.type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")
    key_value = key.get("value") or ""
    if key_type != "AUTO" and (not isinstance(key_value, str) or not key_value):
        raise SpecError(f"id.value must be a non-empty string for an id of type {key_type}")
    if key_type == "GKEY":
        _check_global_key(key_value)
    return ParsedSpec(key_type, key_value, parse_payload(raw["payload"]))


def parse_payload(payload: dict[str, Any]) -> RowFields:
    unknown = sorted(set(payload) - ALLOWED_PAYLOAD_KEYS)
    if unknown:
        raise SpecError(
            f"unknown data row field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(ALLOWED_PAYLOAD_KEYS))}"
        )
    global_key = _optional_string(payload, "global_key")
    if global_key is not None:
        _check_global_key(global_key)
    return RowFields(
        dataset_id=_optional_string(payload, "dataset_id"),
        global_key=global_key,
        external_id=_optional_string(payload, "external_id"),
        row_data=_row_data(payload.get("row_data")),
        media_type=_optional_string(payload, "media_type"),
        metadata=_metadata(payload),
        attachments=_attachments(payload.get("attachments")),
    )


def json_text(value: Any) -> str:
    """Compact JSON text, as row data objects are stored and returned."""
    return _encoder.encode(value).decode("utf-8")


def _optional_string(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise SpecError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _check_global_key(key: str) -> None:
    if not key:
        raise SpecError("global_key must not be empty")
    if len(key) > MAX_GLOBAL_KEY_LENGTH:
        raise SpecError(
            f"global_key '{key[:40]}...' is {len(key)} characters long; the limit is {MAX_GLOBAL_KEY_LENGTH}"
        )


def _row_data(value: Any) -> str | None:
    """row_data as stored: a string stays as is, a JSON object or array becomes its JSON text."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        value = json_text(value)
    elif not isinstance(value, str):
        raise SpecError(f"row_data must be a URL, a text or a JSON object, got {type(value).__name__}")
    if not value or value in ("{}", "[]"):
        raise SpecError("row_data must not be empty")
    if len(value) > MAX_ROW_DATA_CHARS:
        raise SpecError(f"row_data is {len(value)} characters long; the limit is {MAX_ROW_DATA_CHARS}")
    return value


def _metadata(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    given = [payload[name] for name in ("metadata_fields", "metadata") if payload.get(name) is not None]
    if not given:
        return None
    fields: list[dict[str, Any]] = []
    for value in given:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise SpecError('metadata_fields must be a list of {"schemaId" or "name", "value"} objects')
        fields.extend(value)
    schema_ids = [item.get("schemaId") or item.get("schema_id") or item.get("name") for item in fields]
    repeated = sorted({s for s in schema_ids if s is not None and schema_ids.count(s) > 1})
    if repeated:
        raise SpecError(f"A schemaId can only be specified once per DataRow : [{', '.join(repeated)}]")
    return [
        {"schemaId": schema_id, "name": item.get("name"), "value": item.get("value")}
        for schema_id, item in zip(schema_ids, fields, strict=True)
    ]


def _attachments(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise SpecError(f"attachments must be a list, got {type(value).__name__}")
    checked = []
    for item in value:
        if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_TYPES:
            raise SpecError(f"each attachment needs a type in {sorted(ATTACHMENT_TYPES)}, got {item!r}")
        if not isinstance(item.get("value"), str) or not item["value"]:
            raise SpecError(f"each attachment needs a non-empty string value, got {item!r}")
        checked.append(
            {"id": new_id(), "type": item["type"], "value": item["value"], "name": item.get("name")}
        )
    return checked


def failed_row(raw: Any, message: str) -> FailedRow:
    """A rejected spec as `failedDataRowImports` reports it, salvaged from whatever was sent."""
    payload = raw.get("payload") if isinstance(raw, dict) else None
    payload = payload if isinstance(payload, dict) else {}
    key = raw.get("id") if isinstance(raw, dict) else None
    global_key = payload.get("global_key")
    if global_key is None and isinstance(key, dict) and key.get("type") == "GKEY":
        global_key = key.get("value")
    row_data = payload.get("row_data")
    if row_data is not None and not isinstance(row_data, str):
        row_data = json_text(row_data)
    metadata = payload.get("metadata_fields") or payload.get("metadata") or []
    attachments = payload.get("attachments") or []
    return FailedRow(
        message=message,
        external_id=_text_or_none(payload.get("external_id")),
        global_key=_text_or_none(global_key),
        row_data=row_data,
        metadata=[m for m in metadata if isinstance(m, dict)] if isinstance(metadata, list) else [],
        attachments=[a for a in attachments if isinstance(a, dict)] if isinstance(attachments, list) else [],
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def duplicate_key(key: str) -> SpecError:
    """The service's exact message for a global key already in use (SDK integration tests)."""
    return SpecError(f"Duplicate global key: '{key}'")


# --- applying a request --------------------------------------------------------------------------


class _Planner:
    """Resolves parsed specs, in order, against the stored rows and the keys claimed so far."""

    def __init__(self, writer: DataRowWriter, parsed: Sequence[ParsedSpec | None]) -> None:
        specs = [p for p in parsed if p is not None]
        self.datasets = writer.live_dataset_ids(p.fields.dataset_id for p in specs if p.fields.dataset_id)
        self.by_key = writer.rows_by_global_key(_keys_mentioned(specs))
        self.by_id = writer.rows_by_id(p.key_value for p in specs if p.key_type == "ID")
        self.claimed: set[str] = set()
        self.touched: set[str] = set()
        self.outcome = UpsertOutcome()

    def apply(self, spec: ParsedSpec) -> str:
        """Apply one spec and return the id of the row written; raise SpecError to reject it."""
        if spec.key_type == "AUTO":
            return self._create(spec.fields, spec.fields.global_key)
        if spec.key_type == "GKEY":
            if spec.key_value in self.claimed:
                raise duplicate_key(spec.key_value)
            existing = self.by_key.get(spec.key_value)
            if existing is None:
                return self._create(
                    spec.fields, spec.fields.global_key or spec.key_value, also=spec.key_value
                )
            return self._update(existing, spec.fields, also=spec.key_value)
        existing = self.by_id.get(spec.key_value)
        if existing is None:
            raise SpecError(f"Data row '{spec.key_value}' does not exist (or was deleted)")
        return self._update(existing, spec.fields)

    def _check_dataset(self, dataset_id: str | None, *, required: bool) -> None:
        """Creates need a live dataset; an update keeps its row's dataset but rejects a bad one."""
        if dataset_id is None:
            if required:
                raise SpecError("dataset_id is required to create a data row")
            return
        if dataset_id not in self.datasets:
            raise SpecError(f"Dataset '{dataset_id}' does not exist (or was deleted)")

    def _claim(self, key: str | None, also: str | None = None) -> None:
        """Reserve global keys for this request; one already taken makes the spec a duplicate."""
        for candidate in (key, also):
            if candidate and (candidate in self.claimed or candidate in self.by_key):
                raise duplicate_key(candidate)
        self.claimed.update(k for k in (key, also) if k)

    def _create(self, fields: RowFields, global_key: str | None, *, also: str | None = None) -> str:
        self._check_dataset(fields.dataset_id, required=True)
        if fields.row_data is None:
            raise SpecError("row_data is required to create a data row")
        self._claim(global_key, also)
        assert fields.dataset_id is not None
        row = NewDataRow(
            id=new_id(),
            dataset_id=fields.dataset_id,
            global_key=global_key,
            external_id=fields.external_id,
            row_data=fields.row_data,
            media_type=fields.media_type,
            metadata=fields.metadata or [],
            attachments=fields.attachments or [],
        )
        self.outcome.created.append(row)
        return row.id

    def _update(self, existing: RowRef, fields: RowFields, *, also: str | None = None) -> str:
        self._check_dataset(fields.dataset_id, required=False)
        if existing.id in self.touched:
            raise SpecError(f"Data row '{existing.id}' appears more than once in this request")
        new_key = fields.global_key if fields.global_key != existing.global_key else None
        if new_key is not None:
            self._claim(new_key)
        self.claimed.update(k for k in (also, existing.global_key) if k)
        self.touched.add(existing.id)
        self.outcome.updated.append(DataRowUpdate(existing.id, replace(fields, global_key=new_key)))
        return existing.id


def _keys_mentioned(specs: Iterable[ParsedSpec]) -> set[str]:
    keys: set[str] = set()
    for spec in specs:
        if spec.key_type == "GKEY":
            keys.add(spec.key_value)
        if spec.fields.global_key:
            keys.add(spec.fields.global_key)
    return keys


def apply_upsert(writer: DataRowWriter, task_id: str, raw_specs: Sequence[Any]) -> UpsertOutcome:
    """Check and apply every spec inside the writer's transaction; record per-row results."""
    parsed: list[ParsedSpec | None] = []
    errors: dict[int, str] = {}
    for position, raw in enumerate(raw_specs):
        try:
            parsed.append(parse_spec(raw))
        except SpecError as exc:
            parsed.append(None)
            errors[position] = str(exc)
    planner = _Planner(writer, parsed)
    outcome = planner.outcome
    schemas = SchemaIndex(writer.metadata_schemas())
    for position, (raw, spec) in enumerate(zip(raw_specs, parsed, strict=True)):
        try:
            if spec is None:
                raise SpecError(errors[position])
            outcome.succeeded.append(planner.apply(_with_checked_metadata(spec, schemas)))
        except SpecError as exc:
            outcome.failed.append(failed_row(raw, str(exc)))
    writer.insert(outcome.created)
    writer.update(outcome.updated)
    writer.touch_datasets(r.dataset_id for r in outcome.created)
    writer.record_results(task_id, outcome.succeeded, outcome.failed)
    return outcome


def _with_checked_metadata(spec: ParsedSpec, schemas: SchemaIndex) -> ParsedSpec:
    """The spec with its metadata checked against the organisation's schemas (see `metadata`)."""
    if not spec.fields.metadata:
        return spec
    try:
        checked = schemas.check(spec.fields.metadata)
    except MetadataError as exc:
        raise SpecError(str(exc)) from None
    return replace(spec, fields=replace(spec.fields, metadata=checked))


def task_result_url(base_url: str, task_id: str) -> str:
    """Where the task's legacy result document is served (the task's `result` field)."""
    return f"{base_url}/task-results/{task_id}"


def result_document(store: Store, task: Task) -> dict[str, Any]:
    """The legacy JSON-import result the plain `Task.result`/`errors` of the SDK downloads.

    `{"createdDataRows": [...], "errors": [...]}` when done, `{"error": ...}` when the task failed
    (wire reference 3.4, "Legacy formats"). Built on demand from the per-row results.
    """
    if task.status == FAILED:
        return {"error": task.errors}
    rows, _ = store.task_successes(task.id, offset=0, limit=_ALL)
    failures, _ = store.task_failures(task.id, offset=0, limit=_ALL)
    return {
        "createdDataRows": [
            {"id": r.id, "externalId": r.external_id, "globalKey": r.global_key, "rowData": r.row_data}
            for r in rows
        ],
        "errors": [
            {
                "message": f.message,
                "failedDataRows": [
                    {
                        "externalId": f.external_id,
                        "globalKey": f.global_key,
                        "rowData": f.row_data,
                        "metadata": f.metadata,
                        "attachments": f.attachments,
                    }
                ],
            }
            for f in failures
        ],
    }


def run_upsert_task(store: Store, task: Task) -> None:
    """Background handler for `adv-upsert-data-rows` tasks (registered with the task runner)."""
    result_url = task_result_url(task.input["baseUrl"], task.id)
    try:
        specs = read_specs(store, task.input["manifestUri"])
    except ManifestError as exc:
        store.finish_task(task.id, status=FAILED, result=result_url, errors=str(exc), metadata=None)
        return
    with store.data_row_writer() as writer:
        outcome = apply_upsert(writer, task.id, specs)
        writer.finish_task(
            task.id, status=COMPLETE, result=result_url, errors=None, metadata=outcome.summary()
        )
