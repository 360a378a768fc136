"""Build, validate and serialise 100,000 MMC annotations with ours and with the official SDK.

The round: conversations with three model responses each; every data row gets six annotations,
one of each kind: a ranking of the three responses, a single selection, a multi selection, a
global radio with a nested text answer, a message-scoped checklist on one response, and a global
free text. Conversations, their row_data documents and the message ids are prepared first (not
timed), so both sides start from the same ids, and moved out of the garbage collector's way
(`gc.freeze`), so neither side pays for traversing them.

Each side goes from the annotation ids to the upload body, in two input forms:

* **a list** (the headline, like for like): every annotation is built first, then the body. This
  is how the seed imports with the SDK: `LabelImport.create_from_objects` takes only a list of
  `Label`s. The SDK's time is its own body-building step, `LabelImport._get_ndjson_from_objects`
  (`NDJsonConverter`, its data row checks: one of id or global key, at most 5,000 annotations per
  feature; `parser.dumps`; UTF-8), after the `Label`s; `create_from_objects`' `len(str(...))` of
  the body (about 0.1 s) is left out, in the SDK's favour. Holding 16,667 `Label`s of pydantic
  models alive makes Python's cyclic garbage collector traverse them again and again while they
  are built (about 3 s of the SDK's 10 at 100,000 annotations); ours keeps its lines in msgspec
  Structs that the collector does not track. So the list form is also timed with the collector
  off on both sides, the ratio that does not depend on the collector's settings;
* **streamed**: annotations are built per data row and consumed as they come: a generator of
  lines for ours, which is how the operator reads files; a generator of `Label`s fed straight to
  `NDJsonConverter.serialize` and `parser.dumps` for the SDK, whose NDJSON an SDK user can
  upload with `LabelImport.create_from_file` or `create_from_url` (the SDK's fastest route).

Ours, in both forms, is `build_ndjson` with the documents: deterministic uuids, validation
against the ontology and every conversation (each row_data document is indexed once per data row,
inside the timed call), and encoding. The variants:

* typed builders: `typed_annotations.LabelLines` per data row (msgspec Structs, as the SDK's
  side builds pydantic models);
* dict builders: the `annotations` builders and `annotation_line` (each makes the typed piece and
  gives its builtins: one builder family), whose dicts the batch converts to typed lines first;
* ontology rules only: the typed builders, streamed, without the documents (the conversation
  rules are skipped), which is closer to what the SDK checks;
* records: the same annotations as JSONL annotation records (one per data row, naming models),
  read line by line as the operator reads a file.

The SDK checks only shapes, ranking orders and the data row rules above, not the ontology or the
conversations, so it does less work than ours. All of our bodies are byte-identical.

Run: ``.venv/bin/python benchmarks/annotations.py [--annotations N] [--repeat R]``; the best of
R runs is reported, in CPU time of this process (`time.process_time`), which shared machines
disturb less than wall time. The runs are interleaved (each round runs every variant once, ours
and the SDK's), so a slow spell of the machine, which can last a minute, slows both sides alike
instead of one side's every run. Prints figures only.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import re
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


def _load_tests_module(relative: str) -> Any:
    """A module of the test suite by its path under tests/ (the benchmarks share its fixtures)."""
    path = Path(__file__).resolve().parent.parent / "tests" / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROUND_SPEC = _load_tests_module("specs.py").ROUND_SPEC


def _load_oracle() -> Any:
    """The SDK loader shared with the differential tests (tests/annotations/sdk_oracle.py)."""
    return _load_tests_module("annotations/sdk_oracle.py").sdk()


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


Plan = list[tuple[str, list[Any]]]


def dict_lines(plan: Plan) -> Iterator[dict[str, Any]]:
    """Each data row's six annotations with the dict builders."""
    line = ann.annotation_line
    for global_key, order in plan:
        best, second, last = order
        yield line(ann.message_ranking("Rank the responses", order), global_key=global_key)
        yield line(ann.single_selection("Best response", best), global_key=global_key)
        yield line(ann.multi_selection("Acceptable responses", [best, second]), global_key=global_key)
        overall = ann.radio("Overall quality", ann.answer("bad", [ann.text("Why", f"too long {global_key}")]))
        yield line(overall, global_key=global_key)
        issues = ann.checklist("Response issues", ["verbosity", "factual error"])
        yield line(issues, global_key=global_key, message_id=last.message_id)
        yield line(ann.text("Reason", f"{best.model_config_name} answered"), global_key=global_key)


def typed_lines(plan: Plan) -> Iterator[Any]:
    """Each data row's six annotations with the typed builders."""
    for global_key, order in plan:
        best, second, last = order
        label = typed.LabelLines(global_key=global_key)
        yield label.message_ranking("Rank the responses", order)
        yield label.single_selection("Best response", best)
        yield label.multi_selection("Acceptable responses", [best, second])
        why = typed.text("Why", f"too long {global_key}")
        yield label.radio("Overall quality", typed.answer("bad", [why]))
        yield label.checklist("Response issues", ["verbosity", "factual error"], message_id=last.message_id)
        yield label.text("Reason", f"{best.model_config_name} answered")


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


def sdk_labels(sdk: Any, plan: Plan) -> Iterator[Any]:
    return (sdk_label(sdk.types, global_key, order) for global_key, order in plan)


def sdk_import_body(sdk: Any, plan: Plan) -> bytes:
    """What `LabelImport.create_from_objects` uploads: its own body-building step over a list."""
    return bytes(sdk.LabelImport._get_ndjson_from_objects(list(sdk_labels(sdk, plan)), "labels"))


def sdk_streamed_body(sdk: Any, plan: Plan) -> bytes:
    return str(sdk.parser.dumps(sdk.NDJsonConverter.serialize(sdk_labels(sdk, plan)))).encode()


def _without_uuids(body: bytes) -> bytes:
    return re.sub(rb'"uuid": ?"[0-9a-f-]{36}"', b"", body)


def timed(run: Callable[[], Any], *, collector: bool = True) -> tuple[float, Any]:
    gc.collect()
    if not collector:
        gc.disable()
    try:
        start = time.process_time()
        result = run()
        return time.process_time() - start, result
    finally:
        gc.enable()


def interleaved(
    runs: dict[str, tuple[Callable[[], Any], bool]], repeat: int
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """The time of each run in each of `repeat` rounds, each round running every one once."""
    rounds: list[dict[str, float]] = []
    results: dict[str, Any] = {}
    for _ in range(repeat):
        times: dict[str, float] = {}
        for name, (run, collector) in runs.items():
            times[name], results[name] = timed(run, collector=collector)
        rounds.append(times)
    return rounds, results


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
    ontology = build_ontology(ROUND_SPEC)
    documents, plan, records = prepare(rows)
    gc.collect()
    gc.freeze()  # the prepared inputs are not garbage: neither side pays for traversing them

    build = ann.build_ndjson
    ours: dict[str, Callable[[], bytes]] = {
        "typed builders, list": lambda: build(list(typed_lines(plan)), ontology, documents),
        "dict builders, list": lambda: build(list(dict_lines(plan)), ontology, documents),
        "typed builders, streamed": lambda: build(typed_lines(plan), ontology, documents),
        "dict builders, streamed": lambda: build(dict_lines(plan), ontology, documents),
        "JSONL records, streamed": lambda: build(records, ontology, documents),
        "ontology rules only (typed, streamed)": lambda: build(typed_lines(plan), ontology, None),
    }
    runs: dict[str, tuple[Callable[[], Any], bool]] = {name: (run, True) for name, run in ours.items()}
    runs["SDK list"] = (lambda: sdk_import_body(sdk, plan), True)
    runs["SDK streamed"] = (lambda: sdk_streamed_body(sdk, plan), True)
    runs["typed builders, list, collector off"] = (ours["typed builders, list"], False)
    runs["SDK list, collector off"] = (lambda: sdk_import_body(sdk, plan), False)
    rounds, results = interleaved(runs, args.repeat)
    times = {name: min(r[name] for r in rounds) for name in runs}
    bodies = {name: results[name] for name in ours}
    sdk_body, sdk_streamed = results["SDK list"], results["SDK streamed"]

    checked = [body for name, body in bodies.items() if "ontology rules only" not in name]
    same = all(body == checked[0] for body in checked)
    ours_lines = [json.loads(x) for x in checked[0].split(b"\n")[:PER_ROW]]
    sdk_lines = [json.loads(x) for x in sdk_body.split(b"\n")[:PER_ROW]]
    strip = [json.dumps({k: v for k, v in x.items() if k != "uuid"}, sort_keys=True) for x in ours_lines]
    sdk_strip = [json.dumps({k: v for k, v in x.items() if k != "uuid"}, sort_keys=True) for x in sdk_lines]

    print(f"annotations: {total:,} ({rows:,} data rows x {PER_ROW} kinds), python {sys.version.split()[0]}")
    if sdk.replaced:
        print(
            f"(SDK loaded with inert placeholders for the absent labelbox[data] extra: {', '.join(sdk.replaced)})"
        )
    labels = {
        "SDK list": "SDK, list of Labels -> LabelImport body (create_from_objects' step)",
        "SDK streamed": "SDK, Labels streamed -> NDJsonConverter -> dumps",
        "SDK list, collector off": "SDK, list of Labels -> LabelImport body, collector off",
    }
    for name, seconds in times.items():
        label = labels.get(name, f"ours, {name} -> validated -> NDJSON")
        print(f"{label:<70} {seconds:7.3f} s  {seconds / total * 1e6:6.2f} us/annotation")
    sdk_same = _without_uuids(sdk_body) == _without_uuids(sdk_streamed)  # the SDK's uuids are random
    print(f"our bodies identical, all ways: {same}; the SDK's two, apart from uuids: {sdk_same}")
    print(f"first data row identical to the SDK's apart from uuid: {strip == sdk_strip}")

    def ratios(sdk_name: str, names: list[str]) -> str:
        """Best against best, and in brackets the ratio of each round (same machine moment)."""
        return ", ".join(
            f"{name} {times[sdk_name] / times[name]:.1f}x "
            f"[rounds: {' '.join(f'{r[sdk_name] / r[name]:.1f}' for r in rounds)}]"
            for name in names
        )

    print(
        "speed-up, like for like (lists; target 10x): "
        + ratios("SDK list", ["typed builders, list", "dict builders, list"])
        + "; with the collector off on both sides: "
        + ratios("SDK list, collector off", ["typed builders, list, collector off"])
    )
    streamed = [name for name in ours if "list" not in name]
    print(
        "speed-up, streamed (vs the SDK's converter streamed; JSONL records are the import operator's "
        "path, target 10x): " + ratios("SDK streamed", streamed)
    )


if __name__ == "__main__":
    main()
