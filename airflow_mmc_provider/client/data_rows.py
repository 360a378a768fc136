"""Data rows: validated, streamed upserts keyed by global key, and their per-row outcome.

The pipeline (wire reference 3.2): rows are validated and encoded once into a spool file (so bad
input fails before any byte is uploaded, and memory stays flat in the row count), existing global
keys are looked up so each row goes up as an update (`GKEY`) or a create (`AUTO`), the specs are
cut into JSON-array chunks of at most 10 MB, uploaded a few at a time, described by a manifest,
and handed to `upsertDataRows`. A repeat of the same rows therefore updates instead of
duplicating, and Labelbox's own global-key uniqueness backs that up. Given `RowChanges`, existing
rows are checked before the upload (`row_changes`): unchanged ones are left out (none left: no
task is started), harmful changes refused.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

import msgspec

from airflow_mmc_provider.client.errors import DataRowSpecError, LabelboxError, NotFoundError
from airflow_mmc_provider.client.metadata import MetadataResolver
from airflow_mmc_provider.client.models import (
    DataRowUpsert,
    DataRowUpsertReport,
    FailedDataRow,
    ImportedDataRow,
)
from airflow_mmc_provider.client.tasks import TASK_FIELDS
from airflow_mmc_provider.client.transport import Transport

if TYPE_CHECKING:
    from airflow_mmc_provider.client.row_changes import RowChanges

MAX_CHUNK_BYTES = 10_000_000
MAX_GLOBAL_KEY_LENGTH = 200
ALLOWED_FIELDS = frozenset(
    {
        "row_data",
        "global_key",
        "external_id",
        "media_type",
        "metadata_fields",
        "attachments",
        "embeddings",
        "media_attributes",
    }
)
_RESULT_PAGE = 5000
_KEY_LOOKUP_BATCH = 10_000
_encoder = msgspec.json.Encoder()


class DataRows:
    """Upserts and their results."""

    def __init__(
        self,
        transport: Transport,
        *,
        chunk_bytes: int = MAX_CHUNK_BYTES,
        upload_workers: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < chunk_bytes <= MAX_CHUNK_BYTES:
            raise ValueError(f"chunk_bytes must be between 1 and {MAX_CHUNK_BYTES}")
        self._transport = transport
        self._chunk_bytes = chunk_bytes
        self._workers = max(1, upload_workers)
        self._sleep = sleep

    # --- submit ----------------------------------------------------------------------------------

    def upsert(
        self, dataset_id: str, rows: Iterable[Mapping[str, Any]], changes: RowChanges | None = None
    ) -> DataRowUpsert:
        """Validate every row, upload them and start the upsert task; return without waiting.
        With `changes`, existing rows are checked first (module docstring)."""
        resolver = MetadataResolver(self._transport)
        with tempfile.TemporaryFile() as spool:
            keys = spool_rows(rows, spool, resolve_metadata=resolver.resolve)
            ids = self.existing_data_rows(keys)
            unchanged: dict[str, str] = {}
            if changes is not None and ids:
                spool.seek(0)
                unchanged = changes.unchanged(ids, _row_data_of(spool, ids))
            existing = set(ids) - unchanged.keys()
            count = len(keys) - len(unchanged)
            if count == 0:
                return _nothing_to_upload(dataset_id, unchanged)
            spool.seek(0)
            manifest_url, chunks = self._upload_chunks(dataset_id, spool, existing, count, unchanged)
            try:
                # Not repeated blindly: rows the lost try created would come back "Duplicate global key".
                task_id = self._start(manifest_url, idempotent=False)
            except LabelboxError as error:
                if not error.ambiguous:
                    raise
                task_id = self._start_by_key(dataset_id, spool, keys, count, unchanged)
        return DataRowUpsert(
            dataset_id=dataset_id,
            task_id=task_id,
            row_count=count,
            chunk_count=chunks,
            existing_global_keys=tuple(sorted(existing)),
            unchanged_global_keys=tuple(unchanged),
            unchanged_data_row_ids=tuple(unchanged.values()),
        )

    def _start(self, manifest_url: str, *, idempotent: bool) -> str:
        query = (
            "mutation UpsertDataRowsPyApi($manifestUri: String!) { upsertDataRows(data: "
            f"{{ manifestUri: $manifestUri }}) {{ {TASK_FIELDS} }} }}"
        )
        data = self._transport.execute(query, {"manifestUri": manifest_url}, idempotent=idempotent)
        return str(data["upsertDataRows"]["id"])

    def _start_by_key(
        self, dataset_id: str, spool: IO[bytes], keys: list[str], count: int, unchanged: Collection[str]
    ) -> str:
        """Start the upsert again after its answer was lost, every row keyed by its global key.

        The lost try may have created some or all of the new rows. Keyed by global key (`GKEY`),
        a row is created when its key is free and updated in place (to the content sent, the same)
        when it exists, so this upsert is safe to repeat and its report counts every row as
        succeeded: rows that exist with the sent content are a success, not a duplicate.
        """
        spool.seek(0)
        manifest_url, _ = self._upload_chunks(dataset_id, spool, set(keys), count, unchanged)
        return self._start(manifest_url, idempotent=True)

    def existing_global_keys(self, global_keys: list[str]) -> set[str]:
        """Which of these global keys already name a data row in the organisation."""
        return set(self.existing_data_rows(global_keys))

    def existing_data_rows(self, global_keys: list[str]) -> dict[str, str]:
        """Global key -> data row id of the keys that already name a data row."""
        found: dict[str, str] = {}
        for start in range(0, len(global_keys), _KEY_LOOKUP_BATCH):
            batch = global_keys[start : start + _KEY_LOOKUP_BATCH]
            ids = self.data_row_ids_for_global_keys(batch)
            found.update((key, row_id) for key, row_id in zip(batch, ids, strict=True) if row_id)
        return found

    def data_row_ids_for_global_keys(self, global_keys: list[str]) -> list[str]:
        """Data row ids in input order, "" for keys with no row (the service's own convention)."""
        if not global_keys:
            return []
        start = self._transport.execute(
            "query getDataRowsForGlobalKeysPyApi($globalKeys: [ID!]!) "
            "{dataRowsForGlobalKeys(where: {ids: $globalKeys}) {jobId}}",
            {"globalKeys": global_keys},
        )
        job_id = start["dataRowsForGlobalKeys"]["jobId"]
        query = (
            "query getDataRowsForGlobalKeysResultPyApi($jobId: ID!) {dataRowsForGlobalKeysResult("
            "jobId: {id: $jobId}) { data { fetchedDataRows { id } notFoundGlobalKeys "
            "accessDeniedGlobalKeys } jobStatus}}"
        )
        interval = 0.1
        while True:
            result = self._transport.execute(query, {"jobId": job_id})["dataRowsForGlobalKeysResult"]
            status = result["jobStatus"]
            if status == "COMPLETE":
                return [(row or {}).get("id") or "" for row in result["data"]["fetchedDataRows"]]
            if status == "FAILED":
                raise LabelboxError(
                    "looking up data rows by global key failed", operation="dataRowsForGlobalKeysResult"
                )
            self._sleep(interval)
            interval = min(2.0, interval * 2)

    def _upload_chunks(
        self,
        dataset_id: str,
        spool: IO[bytes],
        existing: set[str],
        row_count: int,
        left_out: Collection[str] = (),
    ) -> tuple[str, int]:
        urls: list[str] = []
        pending: list[Future[str]] = []
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="lb-upload") as pool:
            for chunk in _chunks(_specs(spool, dataset_id, existing, left_out), self._chunk_bytes):
                pending.append(pool.submit(self._upload_chunk, chunk))
                if len(pending) >= self._workers * 2:  # bound the chunks held in memory
                    urls.append(pending.pop(0).result())
            urls.extend(f.result() for f in pending)
        manifest = _encoder.encode({"source": "SDK", "item_count": row_count, "chunk_uris": urls})
        url = self._transport.upload(manifest, filename="manifest.json", content_type="application/json")
        return url, len(urls)

    def _upload_chunk(self, chunk: bytes) -> str:
        return self._transport.upload(chunk, filename="data_rows.json", content_type="application/json")

    def row_data(self, data_row_id: str) -> Any:
        """A data row's row_data: the decoded JSON document, or the URL string it points to."""
        query = "query GetDataRowPyApi($id: ID!){dataRow(where: {id: $id}){id globalKey rowData}}"
        node = self._transport.execute(query, {"id": data_row_id}).get("dataRow")
        if not node:
            raise NotFoundError(f"data row {data_row_id!r} does not exist", operation="GetDataRowPyApi")
        text = node.get("rowData")
        try:
            return msgspec.json.decode(text) if isinstance(text, str) and text.startswith("{") else text
        except msgspec.DecodeError:
            return text

    def documents(self, global_keys: Iterable[str], data_row_ids: Iterable[str] = ()) -> dict[str, Any]:
        """`row_data` of each data row named by global key or by id, keyed as it was named; a
        key or id that names no data row is left out (so a validation can report it)."""
        keys = sorted(global_keys)
        found: dict[str, Any] = {}
        for key, row_id in zip(keys, self.data_row_ids_for_global_keys(keys), strict=True):
            if row_id:
                found[key] = self.row_data(row_id)
        for row_id in sorted(data_row_ids):
            try:
                found[row_id] = self.row_data(row_id)
            except NotFoundError:
                continue
        return found

    # --- results ---------------------------------------------------------------------------------

    def iter_succeeded(self, task_id: str) -> Iterator[ImportedDataRow]:
        """Every row the task created or updated."""
        found = self._results(
            task_id, "SuccessesfulDataRowImports", "nodes", "nodes { id externalId globalKey }"
        )
        return map(ImportedDataRow.from_graphql, found)

    def iter_failed(self, task_id: str) -> Iterator[FailedDataRow]:
        """Every row the task rejected, with the service's reason."""
        found = self._results(
            task_id, "FailedDataRowImports", "results", "results { message spec { externalId globalKey } }"
        )
        for node in found:
            spec = node.get("spec") or {}
            yield FailedDataRow(spec.get("globalKey"), spec.get("externalId"), node.get("message") or "")

    def report(self, upsert: DataRowUpsert, status: str) -> DataRowUpsertReport:
        """Read every row's outcome once the task is terminal (no task: the unchanged rows only)."""
        succeeded = list(self.iter_succeeded(upsert.task_id)) if upsert.task_id else []
        failed = list(self.iter_failed(upsert.task_id)) if upsert.task_id else []
        existing = set(upsert.existing_global_keys)
        updated = sum(1 for row in succeeded if row.global_key in existing)
        unchanged = [
            ImportedDataRow(id=row_id, global_key=key)
            for key, row_id in zip(upsert.unchanged_global_keys, upsert.unchanged_data_row_ids, strict=True)
        ]
        return DataRowUpsertReport(
            dataset_id=upsert.dataset_id,
            task_id=upsert.task_id,
            status=status,
            created=len(succeeded) - updated,
            updated=updated,
            succeeded=succeeded,
            failed=failed,
            unchanged=unchanged,
        )

    def _results(self, task_id: str, operation: str, items: str, fields: str) -> Iterator[dict[str, Any]]:
        """The items of one of the task's paged outcome listings (`successesfulDataRowImports`,
        sic, or `failedDataRowImports`), following its `after` cursor."""
        root = operation[0].lower() + operation[1:]
        query = (
            f"query {operation}PyApi($taskId: ID!, $first: Int, $from: String) {{ "
            f"{root}(data: {{ taskId: $taskId, first: $first, from: $from}}) {{ {fields} after total }} }}"
        )
        cursor: str | None = None
        while True:
            variables = {"taskId": task_id, "first": _RESULT_PAGE, "from": cursor}
            page = self._transport.execute(query, variables).get(root) or {}
            yield from page.get(items) or []
            cursor = page.get("after")
            if not cursor:
                return


# --- validation and encoding -----------------------------------------------------------------------


def spool_rows(
    rows: Iterable[Mapping[str, Any]],
    spool: IO[bytes],
    *,
    resolve_metadata: Callable[[list[Any]], list[dict[str, Any]]] | None = None,
) -> list[str]:
    """Validate and encode every row into `spool` (one JSON payload per line); return the keys.

    Raises `DataRowSpecError` listing every bad row before any data row has been uploaded.
    `resolve_metadata` turns name-based metadata fields into schema ids.
    """
    keys: list[str] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for index, row in enumerate(rows):
        row_problems = row_problems_of(index, row, seen)
        if row_problems:
            problems.extend(row_problems)
            continue
        key = str(row["global_key"])
        seen[key] = index
        item = {k: v for k, v in row.items() if v is not None}
        if resolve_metadata is not None and item.get("metadata_fields"):
            try:
                item["metadata_fields"] = resolve_metadata(item["metadata_fields"])
            except ValueError as exc:
                problems.append(f"row {index} (global_key {key!r}): field 'metadata_fields': {exc}")
                continue
        try:
            payload = _encoder.encode(item)
        except (TypeError, msgspec.EncodeError) as exc:
            problems.append(f"row {index} (global_key {key!r}): cannot be encoded as JSON ({exc})")
            continue
        spool.write(_encoder.encode(key))
        spool.write(b"\t")
        spool.write(payload)
        spool.write(b"\n")
        keys.append(key)
    if problems:
        raise DataRowSpecError(problems)
    if not keys:
        raise DataRowSpecError(["no rows were given: pass at least one row with row_data and global_key"])
    return keys


def row_problems_of(index: int, row: Any, seen: Mapping[str, int]) -> list[str]:
    """Every problem of one row, each naming the row, the field and the fix."""
    if not isinstance(row, Mapping):
        return [f"row {index}: expected an object with row_data and global_key, got {type(row).__name__}"]
    key = row.get("global_key")
    where = f"row {index} (global_key {key!r})" if isinstance(key, str) else f"row {index}"
    problems = [f"{where}: {p}" for p in _field_problems(row)]
    if isinstance(key, str) and key in seen:
        problems.append(
            f"{where}: field 'global_key' repeats row {seen[key]}; give each row its own global key"
        )
    return problems


def _field_problems(row: Mapping[str, Any]) -> list[str]:
    problems = []
    unknown = sorted(set(row) - ALLOWED_FIELDS)
    if unknown:
        problems.append(
            f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(ALLOWED_FIELDS))}"
        )
    problems.extend(_global_key_problems(row.get("global_key")))
    data = row.get("row_data")
    if data is None or data == "" or data == {}:
        problems.append("field 'row_data' is missing or empty; give the conversation document or its URL")
    elif isinstance(data, str) and data.startswith("s3:/"):
        problems.append("field 'row_data' is an s3:// URI; Labelbox needs an https URL or inline data")
    elif not isinstance(data, str | Mapping):
        problems.append("field 'row_data' must be a JSON object or a URL string")
    for name in ("metadata_fields", "attachments", "embeddings"):
        if row.get(name) is not None and not isinstance(row[name], list):
            problems.append(f"field {name!r} must be a list")
    return problems


def _global_key_problems(key: Any) -> list[str]:
    if not isinstance(key, str) or not key.strip():
        return [
            "field 'global_key' is missing or blank; every row needs one so re-runs update, not duplicate"
        ]
    if len(key) > MAX_GLOBAL_KEY_LENGTH:
        return [
            f"field 'global_key' has {len(key)} characters; the limit is {MAX_GLOBAL_KEY_LENGTH}, shorten it"
        ]
    if key != key.strip():
        return ["field 'global_key' starts or ends with white space, which Labelbox rejects; strip it"]
    return []


def _nothing_to_upload(dataset_id: str, unchanged: Mapping[str, str]) -> DataRowUpsert:
    return DataRowUpsert(
        dataset_id=dataset_id,
        task_id="",
        row_count=0,
        chunk_count=0,
        unchanged_global_keys=tuple(unchanged),
        unchanged_data_row_ids=tuple(unchanged.values()),
    )


def _row_data_of(spool: IO[bytes], keys: Collection[str]) -> Iterator[tuple[str, Any]]:
    """(global key, row_data) of the spooled rows with these keys, in spool order."""
    for line in spool:
        raw_key, _, payload = line.rstrip(b"\n").partition(b"\t")
        key = msgspec.json.decode(raw_key)
        if key in keys:
            yield key, msgspec.json.decode(payload).get("row_data")


def _specs(
    spool: IO[bytes], dataset_id: str, existing: set[str], left_out: Collection[str] = ()
) -> Iterator[bytes]:
    """Wrap each spooled payload in its upsert spec without decoding it again."""
    dataset = _encoder.encode(dataset_id)
    for line in spool:
        raw_key, _, payload = line.rstrip(b"\n").partition(b"\t")
        key = msgspec.json.decode(raw_key)
        if key in left_out:
            continue
        kind = b'{"type":"GKEY","value":' + raw_key if key in existing else b'{"type":"AUTO","value":""'
        body = payload[:-1] + (b',"dataset_id":' if payload != b"{}" else b'"dataset_id":') + dataset
        yield b'{"id":' + kind + b'},"payload":' + body + b"}}"


def _chunks(specs: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """JSON arrays of specs, each at most `limit` bytes unless one spec alone is larger."""
    buffer = bytearray(b"[")
    for spec in specs:
        if len(buffer) > 1 and len(buffer) + len(spec) + 1 > limit:
            buffer[-1:] = b"]"
            yield bytes(buffer)
            buffer = bytearray(b"[")
        buffer += spec
        buffer += b","
    if len(buffer) > 1:
        buffer[-1:] = b"]"
        yield bytes(buffer)
