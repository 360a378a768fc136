"""Export filters serialised as the wire expects, and chunked downloads that resume exactly."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pendulum
import pytest
import requests

from airflow_mmc_provider.client.export_spec import (
    ExportParams,
    ExportSpecError,
    needs_user_timezone,
    search_query,
)
from airflow_mmc_provider.client.exports import Exports
from airflow_mmc_provider.client.transport import RetryPolicy, Transport

URL = "https://lb.test/graphql"


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


def serve_stream(requests_mock, chunk_size: int, faults: dict[int, object]) -> list[int]:
    """Mock the header, the offset look-ups and chunk URLs; `faults` maps an offset to its first answer."""
    asked: list[int] = []
    pending = dict(faults)

    def graphql(request, context):
        body = request.json()
        if "exportMetadataHeader" in body["query"]:
            header = {"totalSize": len(STREAM), "totalLines": STREAM.count(b"\n")}
            return {"data": {"task": {"exportMetadataHeader": header}}}
        offset = int(body["variables"]["offset"])
        asked.append(offset)
        end = min(len(STREAM), offset + chunk_size) - 1
        found = {
            "offsets": {"start": offset, "end": end},
            "lines": {"start": 0, "end": 0},
            "file": f"https://f.test/{offset}",
        }
        return {"data": {"task": {"exportFileFromOffset": found}}}

    def chunk(request, context):
        offset = int(request.url.rsplit("/", 1)[1])
        body = STREAM[offset : offset + chunk_size]
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

    return re.compile(r"https://f\.test/\d+")


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
