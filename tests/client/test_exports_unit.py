"""Export filters serialised as the wire expects, and chunked downloads that resume exactly."""

from __future__ import annotations

import io
import json
import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pendulum
import pytest
import requests

from airflow_mmc_provider.client.errors import AuthorizationError, LabelboxError, ServerError
from airflow_mmc_provider.client.export_spec import (
    ExportParams,
    ExportSpecError,
    needs_user_timezone,
    search_query,
)
from airflow_mmc_provider.client.exports import _MAX_MISSES, LOOKAHEAD, Exports
from airflow_mmc_provider.client.transport import RetryPolicy, Transport

URL = "https://lb.test/graphql"


def chunk_answer(start: int, end: int) -> dict:
    """The service's location of the chunk of bytes start..end (its file URL names the range)."""
    return {
        "offsets": {"start": start, "end": end},
        "lines": {"start": 0, "end": 0},
        "file": f"https://f.test/{start}-{end}",
    }


def test_every_filter_is_serialised_like_the_sdk():
    items = search_query(
        {
            "last_activity_at": ["2000-01-01 00:00:00", "2050-01-01 00:00:00"],
            "label_created_at": ["2000-01-01", None],
            "workflow_status": "InReview",
            "batch_ids": ["b1", "b2"],
            "global_keys": ["gk1"],
        },
        "America/New_York",
    )
    assert items == [
        {
            "type": "data_row_last_activity_at",
            "value": {
                "operator": "BETWEEN",
                "timezone": "America/New_York",
                "value": {"min": "2000-01-01 00:00:00", "max": "2050-01-01 00:00:00"},
            },
        },
        {
            "type": "labeled_at",
            "value": {
                "operator": "GREATER_THAN_OR_EQUAL",
                "timezone": "America/New_York",
                "value": "2000-01-01",
            },
        },
        {"ids": ["gk1"], "operator": "is", "type": "global_key"},
        {"ids": ["b1", "b2"], "operator": "is", "type": "batch"},
        {"type": "task_queue_status", "status": "InReview"},
    ]
    assert search_query({"workflow_status": "ToLabel"}) == [{"type": "task_queue_not_exist"}]
    assert search_query({"data_row_ids": ["d"]}) == [{"ids": ["d"], "operator": "is", "type": "data_row_id"}]


def test_datetimes_and_offsets_are_converted_to_utc_not_relabelled():
    start = pendulum.datetime(2026, 3, 1, 12, 30, tz="Europe/Paris")
    end = datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=-5)))
    (item,) = search_query({"last_activity_at": [start, end]}, "Asia/Tokyo")
    assert item["value"] == {
        "operator": "BETWEEN",
        "timezone": "UTC",
        "value": {"min": "2026-03-01T11:30:00+0000", "max": "2026-03-02T05:00:00+0000"},
    }
    (iso,) = search_query({"label_created_at": [None, "2000-01-01T00:00:00+0230"]})
    assert iso["value"] == {
        "operator": "LESS_THAN_OR_EQUAL",
        "timezone": "UTC",
        "value": "1999-12-31T21:30:00+0000",
    }
    assert not needs_user_timezone({"last_activity_at": [start, end]})
    assert needs_user_timezone({"last_activity_at": ["2026-01-01", None]})


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"data_row_ids": ["a"], "global_keys": ["b"]}, "mutually exclusive"),
        ({"global_keys": []}, "is empty"),
        ({"batch_ids": [str(i) for i in range(2001)]}, "at most 2000"),
        ({"global_keys": "gk1"}, "must be a list"),
        ({"last_activity_at": ["01/02/2026", None]}, "use YYYY-MM-DD"),
        ({"last_activity_at": "2026-01-01"}, "must be a pair"),
        ({"last_activity_at": [None, None]}, "needs a start, an end or both"),
        ({"workflow_status": "Labeled"}, "use one of"),
        ({"workflow": "Done"}, "unknown export filter"),
    ],
)
def test_invalid_filters_fail_before_any_request(filters, message):
    with pytest.raises(ExportSpecError, match=message):
        search_query(filters)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"batch_ids": [None]}, r"batch_ids\[0\] is None .*did the upstream task push it"),
        ({"batch_ids": [""]}, r"batch_ids\[0\] is the empty string ''"),
        ({"batch_ids": ["b", "  "]}, r"batch_ids\[1\] is the empty string '  '"),
        ({"batch_ids": [1, 2]}, r"batch_ids\[0\] is the int 1; .*quote it: '1'"),
        ({"global_keys": [float("nan")]}, r"global_keys\[0\] is the float nan; .*drop it"),
        ({"data_row_ids": [True]}, r"data_row_ids\[0\] is the bool True"),
        (
            {"last_activity_at": ["2026-11-02", "2026-11-01"]},
            "last_activity_at starts at 2026-11-02 after it ends at 2026-11-01; give .*start first",
        ),
        (
            {"label_created_at": [datetime(2026, 11, 2, tzinfo=timezone.utc), "2026-11-01T00:00:00+0000"]},
            "label_created_at starts at 2026-11-02 00:00:00\\+00:00 after it ends",
        ),
        ("batch_ids=1", r"must be a mapping .*\{'batch_ids': \['<batch id>'\]\}.*got the str 'batch_ids=1'"),
    ],
)
def test_filters_that_would_select_nothing_are_named_with_their_value_and_fix(filters, message):
    with pytest.raises(ExportSpecError, match=message):
        search_query(filters)


def test_window_order_is_judged_in_the_zone_dates_are_read_in():
    # 09:00 in Tokyo is 00:00 UTC: the window is ordered there, though its plain text reads later.
    window = {"last_activity_at": ["2026-11-01 09:00:00", "2026-11-01T00:30:00+0000"]}
    assert search_query(window, "Asia/Tokyo")[0]["value"]["operator"] == "BETWEEN"
    with pytest.raises(ExportSpecError, match="after it ends"):
        search_query(window, "UTC")
    assert search_query(window)  # zone not looked up yet: not judged (`Exports.start` passes the zone)
    same = search_query({"last_activity_at": ["2026-11-01", "2026-11-01"]})
    assert same[0]["value"]["value"] == {"min": "2026-11-01", "max": "2026-11-01"}


def test_params_map_to_include_flags_and_reject_typos():
    wire = ExportParams.from_mapping({"label_details": True, "performance_details": True}).to_wire()
    assert (
        wire["includeLabelDetails"] and wire["includePerformanceDetails"] and not wire["includeAttachments"]
    )
    assert wire["mediaTypeOverride"] is None
    with pytest.raises(ExportSpecError, match="unknown export parameter"):
        ExportParams.from_mapping({"label_detail": True})


STREAM = b"".join(
    json.dumps({"data_row": {"id": f"dr{i}"}, "pad": "x" * (i % 7)}).encode() + b"\n" for i in range(40)
)


def asked_offsets(variables: dict) -> list[int]:
    """The offsets of a look-up: one (`offset`) or several located at once (`o0`, `o1`, ...)."""
    if "offset" in variables:
        return [int(variables["offset"])]
    return [int(variables[f"o{k}"]) for k in range(len(variables) - 2)]


def located(variables: dict, answers: list[dict | None]) -> dict:
    """The `task` of a look-up's answer, in the single or the several-offset form."""
    if "offset" in variables:
        return {"exportFileFromOffset": answers[0]}
    return {f"c{k}": answer for k, answer in enumerate(answers)}


def serve_stream(
    requests_mock,
    chunk_size: int | Callable[[int], int],
    faults: dict[int, object],
    on_lookup: Callable[[int], None] = lambda offset: None,
) -> list[int]:
    """Mock the header, the offset look-ups and chunk URLs; `faults` maps an offset to its first answer.

    `chunk_size` may depend on the offset asked (a service whose chunks vary in size); every
    chunk starts exactly at the offset asked, as the wire reference says.
    """
    asked: list[int] = []
    pending = dict(faults)

    def graphql(request, context):
        body = request.json()
        if "exportMetadataHeader" in body["query"]:
            header = {"totalSize": len(STREAM), "totalLines": STREAM.count(b"\n")}
            return {"data": {"task": {"exportMetadataHeader": header}}}
        answers = []
        for offset in asked_offsets(body["variables"]):
            asked.append(offset)
            on_lookup(offset)
            size = chunk_size(offset) if callable(chunk_size) else chunk_size
            end = min(len(STREAM), offset + size) - 1
            answers.append(chunk_answer(offset, end))
        return {"data": {"task": located(body["variables"], answers)}}

    def chunk(request, context):
        offset, end = (int(n) for n in request.url.rsplit("/", 1)[1].split("-"))
        body = STREAM[offset : end + 1]
        fault = pending.pop(offset, None)
        if fault == "short":
            return body[: len(body) // 2]
        if isinstance(fault, Exception):
            raise fault
        return body

    requests_mock.post(URL, json=graphql)
    requests_mock.get(requests_mock_matcher(), content=chunk)
    return asked


def requests_mock_matcher():
    import re

    return re.compile(r"https://f\.test/\d+-\d+")


def exports() -> Exports:
    transport = Transport(
        "key-0123456789", URL, retry=RetryPolicy(max_attempts=3, initial_wait=0.001), sleep=lambda s: None
    )
    return Exports(transport, sleep=lambda s: None)


def test_chunks_are_checked_and_resumed_from_the_last_verified_offset(requests_mock):
    faults = {200: "short", 400: requests.exceptions.ChunkedEncodingError("IncompleteRead")}
    asked = serve_stream(requests_mock, 100, faults)
    out = io.BytesIO()
    summary = exports().copy_to("task1", out)
    assert out.getvalue() == STREAM
    assert (summary.bytes, summary.lines) == (len(STREAM), 40)
    assert asked.count(200) == 2 and asked.count(0) == 1  # only the bad chunk was fetched again


def test_lines_are_yielded_across_chunk_boundaries(requests_mock):
    serve_stream(requests_mock, 37, {})
    lines = list(exports().iter_lines("task1"))
    assert [json.loads(line)["data_row"]["id"] for line in lines] == [f"dr{i}" for i in range(40)]


def test_an_empty_stream_has_no_header(requests_mock):
    requests_mock.post(URL, json={"data": {"task": {"exportMetadataHeader": None}}})
    assert exports().header("t") is None
    assert list(exports().iter_lines("t")) == []


def test_rendered_airflow_data_interval_strings_are_accepted():
    (item,) = search_query(
        {"last_activity_at": ["2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00.250000+01:00"]}
    )
    assert item["value"]["value"] == {"min": "2026-01-01T00:00:00+0000", "max": "2026-01-01T23:00:00+0000"}


class ThreadedService:
    """A stand-in transport answering from threads for real (requests-mock serialises calls)."""

    def __init__(self, chunk_size: int, on_lookup: Callable[[int], None]) -> None:
        self.chunk_size = chunk_size
        self.on_lookup = on_lookup
        self.asked: list[int] = []
        self.lookups = 0

    def execute(self, query: str, variables: dict, **options: object) -> dict:
        if "exportMetadataHeader" in query:
            return {"task": {"exportMetadataHeader": {"totalSize": len(STREAM), "totalLines": 40}}}
        self.lookups += 1
        answers = []
        for offset in asked_offsets(variables):
            self.asked.append(offset)
            self.on_lookup(offset)
            end = min(len(STREAM), offset + self.chunk_size) - 1
            answers.append({"offsets": {"start": offset, "end": end}, "file": f"{offset}-{end}"})
        return {"task": located(variables, answers)}

    def download(self, url: str, **options: object) -> bytes:
        start, end = (int(n) for n in url.split("-"))
        return STREAM[start : end + 1]


def test_later_chunks_are_located_several_at_a_time_and_downloaded_in_parallel():
    """After the first answer, the offsets start + k * size are located LOOKAHEAD per request, and
    two downloads must be in flight together to get past the barrier."""
    barrier = threading.Barrier(2, timeout=10)

    class Service(ThreadedService):
        def download(self, url: str, **options: object) -> bytes:
            if url.startswith(("100-", "200-")):
                barrier.wait()
            return super().download(url, **options)

    service = Service(100, lambda offset: None)
    out = io.BytesIO()
    Exports(service, sleep=lambda s: None).copy_to("task1", out)  # type: ignore[arg-type]
    assert out.getvalue() == STREAM
    boundaries = list(range(0, len(STREAM), 100))
    assert sorted(service.asked) == boundaries  # each boundary once, none wasted
    assert service.lookups == 1 + math.ceil((len(boundaries) - 1) / LOOKAHEAD)


def test_a_service_refusing_several_offsets_per_request_gets_one_per_chunk(requests_mock):
    """A look-up of several offsets that fails as a whole costs that one request: its chunks and
    every later guess are then located one by one, still ahead of the consumer."""
    requests: list[list[int]] = []
    refusal = {"message": "aliases are not allowed", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}

    def graphql(request, context):
        body = request.json()
        if "exportMetadataHeader" in body["query"]:
            header = {"totalSize": len(STREAM), "totalLines": 40}
            return {"data": {"task": {"exportMetadataHeader": header}}}
        offsets = asked_offsets(body["variables"])
        requests.append(offsets)
        if "offset" not in body["variables"]:
            return {"data": None, "errors": [refusal]}
        end = min(len(STREAM), offsets[0] + 100) - 1
        found = {"offsets": {"start": offsets[0], "end": end}, "file": f"https://f.test/{offsets[0]}-{end}"}
        return {"data": {"task": {"exportFileFromOffset": found}}}

    requests_mock.post(URL, json=graphql)
    requests_mock.get(requests_mock_matcher(), content=lambda request, context: chunk_of(request.url))
    sleeps: list[float] = []
    transport = Transport("key-0123456789", URL, sleep=sleeps.append)
    assert b"".join(Exports(transport, sleep=sleeps.append).iter_chunks("task1")) == STREAM
    assert sum(len(offsets) > 1 for offsets in requests) == 1 and sleeps == []
    singles = sorted(offsets[0] for offsets in requests if len(offsets) == 1)
    assert singles == list(range(0, len(STREAM), 100))  # each boundary once


class SizedService(ThreadedService):
    """A `ThreadedService` whose chunk size depends on the offset asked, `answer` decides each
    look-up's answer (None: no file there), and whose downloads can fail."""

    def __init__(self, size_at: Callable[[int], int]) -> None:
        super().__init__(0, lambda offset: None)
        self.size_at = size_at
        self.requests: list[list[int]] = []

    def answer(self, offset: int, several: bool) -> dict | None:
        end = min(len(STREAM), offset + self.size_at(offset)) - 1
        return {"offsets": {"start": offset, "end": end}, "file": f"{offset}-{end}"}

    def execute(self, query: str, variables: dict, **options: object) -> dict:
        if "exportMetadataHeader" in query:
            return super().execute(query, variables)
        offsets = asked_offsets(variables)
        self.requests.append(offsets)
        return {"task": located(variables, [self.answer(o, len(offsets) > 1) for o in offsets])}


def read_all(service: ThreadedService, offset: int = 0) -> tuple[bytes, list[float]]:
    sleeps: list[float] = []
    exports = Exports(service, sleep=sleeps.append)  # type: ignore[arg-type]
    return b"".join(exports.iter_chunks("task1", offset=offset)), sleeps


def test_a_guess_without_a_file_in_a_look_ahead_is_a_miss_not_an_error():
    class Service(SizedService):
        def answer(self, offset: int, several: bool) -> dict | None:
            return None if several and offset == 300 else super().answer(offset, several)

    service = Service(lambda offset: 100)
    out, sleeps = read_all(service)
    assert out == STREAM and sleeps == []
    assert 300 in service.requests[-1] or [300] in service.requests  # asked again, at a known boundary


def test_a_look_ahead_that_fails_for_a_while_is_tried_again_later():
    """A retryable error (after the transport's retries) fails only that look-up's guesses; later
    guesses are still located several per request."""

    class Service(SizedService):
        def execute(self, query: str, variables: dict, **options: object) -> dict:
            if "o1" in variables and not getattr(self, "failed_once", False):
                self.failed_once = True
                self.requests.append(asked_offsets(variables))
                raise ServerError("Service Unavailable", status_code=503)
            return super().execute(query, variables, **options)

    service = Service(lambda offset: 100)
    out, sleeps = read_all(service)
    assert out == STREAM and sleeps == []
    assert sum(len(offsets) > 1 for offsets in service.requests) >= 3  # the first failed, later ones not


def test_an_expired_look_ahead_url_is_located_again_without_waiting():
    class Service(SizedService):
        expired: set[int] = set()

        def download(self, url: str, **options: object) -> bytes:
            start = int(url.split("-")[0])
            if (
                start >= 500
                and start not in self.expired
                and any(start in r for r in self.requests if len(r) > 1)
            ):
                self.expired.add(start)
                raise AuthorizationError("Request has expired", status_code=403)
            return super().download(url)

    service = Service(lambda offset: 100)
    out, sleeps = read_all(service)
    assert out == STREAM and sleeps == []
    assert service.expired and all([start] in service.requests for start in service.expired)


def test_a_short_last_guess_near_the_end_is_planned_again():
    """Chunks shrink after a point: the last guess overshoots the end while bytes remain."""
    limit = len(STREAM) - 150
    service = SizedService(lambda offset: 100 if offset < limit else 20)
    start = limit - 450
    out, sleeps = read_all(service, offset=start)
    assert out == STREAM[start:] and sleeps == []


def chunk_of(url: str) -> bytes:
    start, end = (int(n) for n in url.rsplit("/", 1)[1].split("-"))
    return STREAM[start : end + 1]


@pytest.mark.parametrize(
    "size_at",
    [
        lambda offset: 37 + (offset * 7919) % 61,  # every chunk a different size
        lambda offset: 100 if offset < 300 else 45,  # the size changes once
        lambda offset: 30 if offset < 90 else 400,  # chunks grow: guesses overlap
    ],
)
def test_chunks_of_varying_size_are_neither_duplicated_nor_skipped(requests_mock, size_at):
    asked = serve_stream(requests_mock, size_at, {})
    chunks = list(exports().iter_chunks("task1"))
    assert b"".join(chunks) == STREAM
    # each chunk is the whole answer for the offset where the previous one ended
    offset = 0
    for chunk in chunks:
        assert len(chunk) == min(len(STREAM), offset + size_at(offset)) - offset
        offset += len(chunk)
    # a wrong guess costs at most the offsets located with it; after a few, offsets come one by one
    assert len(asked) <= len(chunks) + LOOKAHEAD * _MAX_MISSES


def test_varying_chunks_and_faults_together_still_resume_exactly(requests_mock):
    def size_at(offset: int) -> int:
        return 50 + offset % 23

    faults = {0: "short", 53: requests.exceptions.ChunkedEncodingError("IncompleteRead")}
    serve_stream(requests_mock, size_at, faults)
    out = io.BytesIO()
    summary = exports().copy_to("task1", out)
    assert out.getvalue() == STREAM and summary.bytes == len(STREAM)


def test_resuming_mid_stream_reads_from_that_offset(requests_mock):
    asked = serve_stream(requests_mock, 64, {})
    assert b"".join(exports().iter_chunks("task1", offset=500)) == STREAM[500:]
    assert min(asked) == 500


def test_an_empty_chunk_answer_is_an_error_not_an_endless_loop(requests_mock):
    serve_stream(requests_mock, lambda offset: 0 if offset == 300 else 100, {})
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            list(exports().iter_chunks("task1"))
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), "iter_chunks never finished"
    [error] = outcome
    assert isinstance(error, LabelboxError) and "at byte 300" in str(error)


@pytest.mark.parametrize("answer", ["refuse", "containing chunk"])
def test_a_service_that_only_serves_its_own_boundaries_costs_no_retries(requests_mock, answer):
    """Guesses that miss a boundary are dropped at once: no backoff, no duplicated bytes."""
    boundaries, offset = [], 0
    while offset < len(STREAM):
        boundaries.append(offset)
        offset += 40 + (offset * 31) % 70
    ends = [b - 1 for b in boundaries[1:]] + [len(STREAM) - 1]

    def graphql(request, context):
        body = request.json()
        if "exportMetadataHeader" in body["query"]:
            header = {"totalSize": len(STREAM), "totalLines": 40}
            return {"data": {"task": {"exportMetadataHeader": header}}}
        answers = []
        for asked in asked_offsets(body["variables"]):
            index = max(i for i, b in enumerate(boundaries) if b <= asked)
            if boundaries[index] != asked and answer == "refuse":
                status = {"status": 400, "message": "not a chunk boundary"}
                error = {
                    "message": "not a chunk boundary",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR", "exception": status},
                }
                return {"data": None, "errors": [error]}
            start, end = boundaries[index], ends[index]
            answers.append(chunk_answer(start, end))
        return {"data": {"task": located(body["variables"], answers)}}

    def chunk(request, context):
        start, end = (int(n) for n in request.url.rsplit("/", 1)[1].split("-"))
        return STREAM[start : end + 1]

    requests_mock.post(URL, json=graphql)
    requests_mock.get(requests_mock_matcher(), content=chunk)
    sleeps: list[float] = []
    transport = Transport(
        "key-0123456789", URL, retry=RetryPolicy(max_attempts=3, initial_wait=0.001), sleep=sleeps.append
    )
    out = io.BytesIO()
    Exports(transport, sleep=sleeps.append).copy_to("task1", out)
    assert out.getvalue() == STREAM
    assert sleeps == []
