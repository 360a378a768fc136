"""Build, validate and serialise 100,000 MMC annotations with ours and with the official SDK.

The round: conversations with three model responses each; every data row gets six annotations,
one of each kind: a ranking of the three responses, a single selection, a multi selection, a
global radio with a nested text answer, a message-scoped checklist on one response, and a global
free text. Conversations, their row_data documents and the message ids are prepared first (not
timed), so both sides start from the same ids, and moved out of the garbage collector's way
(`gc.freeze`), so neither side pays for traversing them. Both sides stream: annotations are built
per data row and consumed as they come (a generator of lines for ours, a generator of `Label`s
for the SDK's converter).

* ours (typed builders): `typed_annotations.LabelLines` per data row, then deterministic uuids,
  validation against the ontology and every conversation, and encoding, all in `build_ndjson`
  with the documents -> the upload body. Indexing each row_data document (once per data row,
  inside `build_ndjson`) is part of this time; only building the documents is not. Typed lines
  (msgspec Structs) are what the SDK's side builds too (pydantic models);
* ours (dict builders): the same with the `annotations` builders and `annotation_line`, whose
  dicts the batch converts to typed lines first;
* ours, ontology rules only: the typed builders without the documents (the conversation rules
  are skipped), which is closer to what the SDK checks;
* ours (records): the same annotations as JSONL annotation records (one per data row, naming
  models), through `build_ndjson`;
* SDK: `labelbox.types` objects (`MessageEvaluationTaskAnnotation`, `ClassificationAnnotation`,
  ...) in one `Label` per data row, `NDJsonConverter.serialize`, `labelbox.parser.dumps` -> the
  body the SDK uploads. The SDK checks only shapes and ranking orders, not the ontology or the
  conversations, so it does less work than ours.

Run: ``.venv/bin/python benchmarks/annotations.py [--annotations N] [--repeat R]``; the best of
R runs is reported, in CPU time of this process (`time.process_time`), which shared machines
disturb less than wall time. Prints figures only.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from airflow_mmc_provider.mmc import annotations as ann
from airflow_mmc_provider.mmc import typed_annotations as typed
from airflow_mmc_provider.mmc.conversation import (
    build_row_data,
    global_key_for,
    parse_record,
    response_ref,
)
from airflow_mmc_provider.mmc.ontology import build_ontology

MODELS = ("gpt-4o-2024-05", "claude-3.5-sonnet", "gemini-1.5-pro")
PER_ROW = 6
ONTOLOGY_SPEC = {
    "tools": [
        {"name": "Rank the responses", "type": "message-ranking"},
        {"name": "Best response", "type": "message-single-selection"},
        {"name": "Acceptable responses", "type": "message-multi-selection"},
    ],
    "classifications": [
        {
            "name": "Overall quality",
            "type": "radio",
            "options": [
                "good",
                {"value": "bad", "classifications": [{"name": "Why", "type": "text"}]},
            ],
        },
        {
            "name": "Response issues",
            "type": "checklist",
            "scope": "message",
            "options": ["verbosity", "factual error", "unsafe"],
        },
        {"name": "Reason", "type": "text"},
    ],
}


def _load_oracle() -> Any:
    """The SDK loader shared with the differential tests (tests/annotations/sdk_oracle.py)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "annotations" / "sdk_oracle.py"
    spec = importlib.util.spec_from_file_location("sdk_oracle", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sdk()


def prepare(rows: int) -> tuple[dict[str, Any], list[tuple[str, list[Any]]], list[bytes]]:
    """Documents by global key, (global key, refs) per row, and annotation records as JSONL."""
    documents: dict[str, Any] = {}
    plan: list[tuple[str, list[Any]]] = []
    records: list[bytes] = []
    for index in range(rows):
        key = f"conv-{index:06d}"
        record = parse_record(
            {
                "key": key,
                "prompt": f"Question {index}?",
                "responses": {m: f"Answer {index} by {m}" for m in MODELS},
            }
        )
        global_key = global_key_for(key)
        documents[global_key] = build_row_data(record)
        refs = [response_ref(key, m) for m in MODELS]
        order = [refs[(index + shift) % len(refs)] for shift in range(len(refs))]
        plan.append((global_key, order))
        names = [r.model_config_name for r in order]
        records.append(
            json.dumps(
                {
                    "key": key,
                    "ranking": names,
                    "best": names[0],
                    "good": names[:2],
                    "classifications": {
                        "Overall quality": {
                            "answer": "bad",
                            "classifications": {"Why": f"too long {global_key}"},
                        },
                        "Response issues": {names[-1]: ["verbosity", "factual error"]},
                        "Reason": f"{names[0]} answered",
                    },
                }
            ).encode()
        )
    return documents, plan, records


def ours_builders(ontology: Any, documents: dict[str, Any], plan: list[tuple[str, list[Any]]]) -> bytes:
    def lines() -> Iterator[dict[str, Any]]:
        line = ann.annotation_line
        for global_key, order in plan:
            best, second, last = order
            yield line(ann.message_ranking("Rank the responses", order), global_key=global_key)
            yield line(ann.single_selection("Best response", best), global_key=global_key)
            yield line(ann.multi_selection("Acceptable responses", [best, second]), global_key=global_key)
            overall = ann.radio(
                "Overall quality", ann.answer("bad", [ann.text("Why", f"too long {global_key}")])
            )
            yield line(overall, global_key=global_key)
            issues = ann.checklist("Response issues", ["verbosity", "factual error"])
            yield line(issues, global_key=global_key, message_id=last.message_id)
            yield line(ann.text("Reason", f"{best.model_config_name} answered"), global_key=global_key)

    return ann.build_ndjson(lines(), ontology, documents)


def ours_typed(ontology: Any, documents: dict[str, Any] | None, plan: list[tuple[str, list[Any]]]) -> bytes:
    def lines() -> Iterator[Any]:
        for global_key, order in plan:
            best, second, last = order
            label = typed.LabelLines(global_key=global_key)
            yield label.message_ranking("Rank the responses", order)
            yield label.single_selection("Best response", best)
            yield label.multi_selection("Acceptable responses", [best, second])
            why = typed.text("Why", f"too long {global_key}")
            yield label.radio("Overall quality", typed.answer("bad", [why]))
            yield label.checklist(
                "Response issues", ["verbosity", "factual error"], message_id=last.message_id
            )
            yield label.text("Reason", f"{best.model_config_name} answered")

    return ann.build_ndjson(lines(), ontology, documents)


def ours_records(ontology: Any, documents: dict[str, Any], records: list[bytes]) -> bytes:
    return ann.build_ndjson(records, ontology, documents)


def sdk_label(lb: Any, global_key: str, order: list[Any]) -> Any:
    """One data row's six annotations as the SDK's types."""
    best, second, last = order
    parent = best.parent_message_id
    annotations = [
        lb.MessageEvaluationTaskAnnotation(
            name="Rank the responses",
            value=lb.MessageRankingTask(
                parent_message_id=parent,
                ranked_messages=[
                    lb.OrderedMessageInfo(
                        message_id=r.message_id, model_config_name=r.model_config_name, order=i
                    )
                    for i, r in enumerate(order, start=1)
                ],
            ),
        ),
        lb.MessageEvaluationTaskAnnotation(
            name="Best response",
            value=lb.MessageSingleSelectionTask(
                parent_message_id=parent, message_id=best.message_id, model_config_name=best.model_config_name
            ),
        ),
        lb.MessageEvaluationTaskAnnotation(
            name="Acceptable responses",
            value=lb.MessageMultiSelectionTask(
                parent_message_id=parent,
                selected_messages=[
                    lb.MessageInfo(message_id=r.message_id, model_config_name=r.model_config_name)
                    for r in (best, second)
                ],
            ),
        ),
        lb.ClassificationAnnotation(
            name="Overall quality",
            value=lb.Radio(
                answer=lb.ClassificationAnswer(
                    name="bad",
                    classifications=[
                        lb.ClassificationAnnotation(
                            name="Why", value=lb.Text(answer=f"too long {global_key}")
                        )
                    ],
                )
            ),
        ),
        lb.ClassificationAnnotation(
            name="Response issues",
            message_id=last.message_id,
            value=lb.Checklist(
                answer=[
                    lb.ClassificationAnswer(name="verbosity"),
                    lb.ClassificationAnswer(name="factual error"),
                ]
            ),
        ),
        lb.ClassificationAnnotation(
            name="Reason", value=lb.Text(answer=f"{best.model_config_name} answered")
        ),
    ]
    return lb.Label(data={"global_key": global_key}, annotations=annotations)


def sdk_side(sdk: Any, plan: list[tuple[str, list[Any]]]) -> str:
    labels = (sdk_label(sdk.types, global_key, order) for global_key, order in plan)
    return str(sdk.parser.dumps(sdk.NDJsonConverter.serialize(labels)))


def best_time(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--annotations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = math.ceil(args.annotations / PER_ROW)
    total = rows * PER_ROW

    sdk = _load_oracle()
    ontology = build_ontology(ONTOLOGY_SPEC)
    documents, plan, records = prepare(rows)
    gc.collect()
    gc.freeze()  # the prepared inputs are not garbage: neither side pays for traversing them

    ours_time, ours_body = best_time(lambda: ours_typed(ontology, documents, plan), args.repeat)
    dict_time, dict_body = best_time(lambda: ours_builders(ontology, documents, plan), args.repeat)
    bare_time, _ = best_time(lambda: ours_typed(ontology, None, plan), args.repeat)
    records_time, records_body = best_time(lambda: ours_records(ontology, documents, records), args.repeat)
    sdk_time, sdk_body = best_time(lambda: sdk_side(sdk, plan), max(1, min(args.repeat, 2)))

    same = ours_body == records_body == dict_body
    ours_lines = [json.loads(x) for x in ours_body.split(b"\n")[:PER_ROW]]
    sdk_lines = [json.loads(x) for x in sdk_body.split("\n")[:PER_ROW]]
    strip = [json.dumps({k: v for k, v in x.items() if k != "uuid"}, sort_keys=True) for x in ours_lines]
    sdk_strip = [json.dumps({k: v for k, v in x.items() if k != "uuid"}, sort_keys=True) for x in sdk_lines]

    print(f"annotations: {total:,} ({rows:,} data rows x {PER_ROW} kinds), python {sys.version.split()[0]}")
    if sdk.replaced:
        print(
            f"(SDK loaded with inert placeholders for the absent labelbox[data] extra: {', '.join(sdk.replaced)})"
        )
    print(
        f"ours, typed builders -> validated -> NDJSON: {ours_time:8.3f} s  "
        f"{ours_time / total * 1e6:6.2f} us/annotation  {len(ours_body) / 1e6:.1f} MB"
    )
    print(
        f"ours, dict builders -> validated -> NDJSON: {dict_time:8.3f} s  "
        f"{dict_time / total * 1e6:6.2f} us/annotation"
    )
    print(
        f"ours, typed builders, ontology rules only (no documents): {bare_time:8.3f} s  "
        f"{bare_time / total * 1e6:6.2f} us/annotation"
    )
    print(
        f"ours, JSONL records -> validated -> NDJSON: {records_time:8.3f} s  "
        f"{records_time / total * 1e6:6.2f} us/annotation  (identical bodies, all three ways: {same})"
    )
    print(
        f"SDK, lb_types -> NDJsonConverter -> dumps: {sdk_time:8.3f} s  "
        f"{sdk_time / total * 1e6:6.2f} us/annotation  {len(sdk_body.encode()) / 1e6:.1f} MB"
    )
    print(
        f"speed-up vs the SDK: typed builders {sdk_time / ours_time:5.1f}x, dict builders "
        f"{sdk_time / dict_time:5.1f}x, ontology rules only {sdk_time / bare_time:5.1f}x, "
        f"records {sdk_time / records_time:5.1f}x"
    )
    print(f"first data row identical to the SDK's apart from uuid: {strip == sdk_strip}")


if __name__ == "__main__":
    main()
