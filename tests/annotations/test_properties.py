"""Properties over generated ontologies, conversations and annotations: every valid line passes,
every mutated one fails naming the mutated field, uuids are stable and unique, and the fast paths
never accept what the detailed checks reject."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc import annotation_validation as av
from airflow_mmc_provider.mmc.annotations import ndjson as ann

from .neutral import ours
from .strategies import Scenario, scenarios

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TASK = "messageEvaluationTask"
DATA = f"{TASK}.data"
Mutation = Callable[[dict[str, Any], Scenario], "tuple[dict[str, Any], str] | None"]


def _response_ids(case: Scenario) -> list[str]:
    document = next(iter(case.documents.values()))
    actors = document["actors"]
    return [m for m, message in document["messages"].items() if actors[message["actorId"]]["role"] == "model"]


def _first_nested(answer: Any, path: str) -> str | None:
    """The path of the first nested classification's name inside an answer, if any."""
    if isinstance(answer, str):
        return None
    options = (
        [(answer, f"{path}")]
        if isinstance(answer, dict)
        else [(o, f"{path}[{i}]") for i, o in enumerate(answer)]
    )
    for option, at in options:
        if option.get("classifications"):
            return f"{at}.classifications[0].name"
    return None


def _set(line: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(line)
    keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]
    target = result
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value
    return result


def mutations(line: dict[str, Any], case: Scenario) -> list[tuple[str, dict[str, Any], str]]:
    """(what, mutated line, the field an issue must name) for every mutation that applies."""
    found: list[tuple[str, dict[str, Any], str]] = [
        ("unknown key", {**line, "extra": 1}, "extra"),
        ("bad uuid", {**line, "uuid": "not-a-uuid"}, "uuid"),
        ("unknown feature", {**line, "name": line["name"] + "\u2063?"}, "name"),
        ("two data row keys", {**line, "dataRow": {"globalKey": "a", "id": "b"}}, "dataRow"),
    ]
    if TASK in line:
        data = line[TASK]["data"]
        fmt = line[TASK]["format"]
        other = next(f for f in av.TOOL_FORMATS if f != fmt)
        found.append(("format", _set(line, f"{TASK}.format", other), f"{TASK}.format"))
        found.append(
            (
                "parent",
                _set(line, f"{DATA}.parentMessageId", _response_ids(case)[0]),
                f"{DATA}.parentMessageId",
            )
        )
        if fmt == "message-single-selection":
            found.append(
                (
                    "human selected",
                    _set(line, f"{DATA}.messageId", data["parentMessageId"]),
                    f"{DATA}.messageId",
                )
            )
            found.append(("model", _set(line, f"{DATA}.modelConfigName", "?"), f"{DATA}.modelConfigName"))
        key = "rankedMessages" if fmt == "message-ranking" else "selectedMessages"
        items = data.get(key, [])
        if items:
            found.append(
                (
                    "model",
                    _set(line, f"{DATA}.{key}[0].modelConfigName", "?"),
                    f"{DATA}.{key}[0].modelConfigName",
                )
            )
            found.append(
                ("message", _set(line, f"{DATA}.{key}[0].messageId", "nope"), f"{DATA}.{key}[0].messageId")
            )
            doubled = _set(line, f"{DATA}.{key}", [*items, items[0]])
            found.append(("twice", doubled, f"{DATA}.{key}[{len(items)}].messageId"))
        if fmt == "message-ranking" and len(items) > 1:
            found.append(("tie", _set(line, f"{DATA}.{key}[1].order", items[0]["order"]), f"{DATA}.{key}"))
            found.append(("partial", _set(line, f"{DATA}.{key}", items[:-1]), f"{DATA}.{key}"))
        return found
    if "messageId" in line:
        found.append(("no message", {k: v for k, v in line.items() if k != "messageId"}, "messageId"))
        found.append(("unknown message", {**line, "messageId": "nope"}, "messageId"))
    else:
        found.append(("global with message", {**line, "messageId": _response_ids(case)[0]}, "messageId"))
    answer = line["answer"]
    if isinstance(answer, str):
        found.append(("empty text", {**line, "answer": " "}, "answer"))
    elif isinstance(answer, dict):
        found.append(("unknown option", _set(line, "answer.name", answer["name"] + "\u2063?"), "answer.name"))
        found.append(("list for radio", {**line, "answer": [answer]}, "answer"))
    else:
        found.append(("empty checklist", {**line, "answer": []}, "answer"))
        found.append(("option twice", {**line, "answer": [*answer, answer[0]]}, f"answer[{len(answer)}]"))
        found.append(
            ("unknown option", _set(line, "answer[0].name", answer[0]["name"] + "\u2063?"), "answer[0].name")
        )
    nested = _first_nested(answer, "answer")
    if nested is not None:
        found.append(("unknown nested", _set(line, nested, "\u2063?"), nested))
    return found


@SETTINGS
@given(scenarios(), st.data())
def test_valid_lines_pass_and_mutated_ones_fail_naming_the_field(case: Scenario, data: st.DataObject) -> None:
    lines = ours(case.label)
    assert ann.collect_annotation_issues(lines, case.ontology, case.documents) == []
    if not lines:
        return
    line = data.draw(st.sampled_from(lines))
    what, mutated, field = data.draw(st.sampled_from(mutations(line, case)))
    issues = ann.collect_annotation_issues([mutated], case.ontology, case.documents)
    assert field in [i.field for i in issues], (what, [str(i) for i in issues])
    for issue in issues:
        assert issue.line == 1 and str(issue).startswith("line 1 (")


@SETTINGS
@given(scenarios())
def test_uuids_are_stable_unique_and_blind_to_key_order(case: Scenario) -> None:
    first = ann.build_annotation_lines(ours(case.label), case.ontology, case.documents)
    again = ann.build_annotation_lines(ours(case.label), case.ontology, case.documents)
    uuids = [line["uuid"] for line in first]
    assert uuids == [line["uuid"] for line in again]
    assert len(set(uuids)) == len(uuids)
    for line, uid in zip(ours(case.label), uuids, strict=True):
        reordered = dict(reversed(list(line.items())))
        assert (
            ann.annotation_uuid(reordered) == uid == ann.annotation_uuid(json.dumps(line, ensure_ascii=False))
        )


_NEEDS_CONVERSATION = frozenset(
    {"parent", "human selected", "model", "message", "partial", "unknown message"}
)


@SETTINGS
@given(scenarios(), st.data(), st.booleans())
def test_the_one_entry_point_reports_every_mutation_of_a_line(
    case: Scenario, data: st.DataObject, with_documents: bool
) -> None:
    """`check_line` confirms most lines by a private fast path; whatever it takes, every mutation
    of a valid line is reported naming its field, with or without the conversations (those
    that need a conversation only with it), and the valid lines pass."""
    documents = case.documents if with_documents else None
    lines = ours(case.label)
    validator = av.AnnotationValidator(case.ontology, documents)
    for number, line in enumerate(lines, start=1):
        assert validator.check(line, number) == []
    if not lines:
        return
    line = data.draw(st.sampled_from(lines))
    for what, mutated, field in mutations(line, case):
        issues = av.AnnotationValidator(case.ontology, documents).check(mutated, 1)
        if with_documents or what not in _NEEDS_CONVERSATION:
            assert field in [i.field for i in issues], (what, [str(i) for i in issues])
