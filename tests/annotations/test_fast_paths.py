"""The speed-ups keep their promises: the uuid is uuid5's, the conversation index reads any
document as documented however it is built, a document read lazily is judged as its full index,
and the fast routes of an import (a record read trusting, a line confirmed by `check_line`'s
private fast path) give what the detailed routes give: the same bytes for what is valid, the same
issues for what is not. Every test goes through the public seam (`check_line`,
`build_ndjson`, `collect_annotation_issues`): which route a line takes is the package's business."""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc import annotation_validation as av
from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.uuids import uuid_hash
from airflow_mmc_provider.mmc.conversation import global_key_for, prompt_message_id, response_ref
from airflow_mmc_provider.mmc.ontology import build_ontology
from tests.specs import SCENARIO_SPEC

from .neutral import Classification, Label, Option, Tool, ours, ours_typed
from .scenario import valid_lines
from .strategies import Scenario, scenarios

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_uuid_is_uuid5_of_any_text(name: str) -> None:
    assert uuid_hash(name.encode()) == str(uuid.uuid5(ann.ANNOTATION_NAMESPACE, name))


# --- the conversation index -----------------------------------------------------------------------

MESSAGE_IDS = ("p0", "m1", "m2", "m3", "p4", "m5", "ghost")
ids = st.sampled_from(MESSAGE_IDS)
# fresh containers (`builds`): a damage may write into the one it put in place
junk = st.one_of(st.none(), st.integers(), st.just(""), st.builds(list), st.builds(dict), st.just("text"))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """row_data documents, well formed or damaged anywhere the index reads."""
    actors: dict[str, Any] = {"user": {"role": "human", "metadata": {"name": "User"}}}
    for model in ("a", "b"):
        actors[f"model-{model}"] = {"role": "model", "metadata": {"modelConfigName": f"model {model}"}}
    messages: dict[str, Any] = {}
    for message_id in ("p0", "m1", "m2", "m3", "p4", "m5"):
        actor = "user" if message_id.startswith("p") else draw(st.sampled_from(["model-a", "model-b"]))
        message: dict[str, Any] = {"actorId": actor, "content": [{"type": "text", "content": "hi"}]}
        message["childMessageIds"] = draw(st.lists(ids, max_size=3))  # left out: a damage
        messages[message_id] = message
    document = {"actors": actors, "messages": messages, "rootMessageIds": ["p0"]}
    for _ in range(draw(st.integers(0, 3))):
        _damage(draw, document)
    if draw(st.integers(0, 9)) == 0:
        document[draw(st.sampled_from(["actors", "messages"]))] = draw(junk)
    return document


def _damage(draw: st.DrawFn, document: dict[str, Any]) -> None:
    where = draw(st.sampled_from(["role", "metadata", "name", "actorId", "kids", "kid", "roots", "missing"]))
    actor = document["actors"][draw(st.sampled_from(sorted(document["actors"])))]
    message = document["messages"][draw(st.sampled_from(sorted(document["messages"])))]
    value = draw(junk)
    if where == "role":
        actor["role"] = value
    elif where == "metadata":
        actor["metadata"] = value
    elif where == "name" and isinstance(actor.get("metadata"), dict):
        actor["metadata"]["modelConfigName"] = value
    elif where == "actorId":
        message["actorId"] = draw(st.one_of(junk, st.just("nobody")))
    elif where == "kids":
        message["childMessageIds"] = value
    elif where == "kid":
        kids = message.get("childMessageIds")
        message["childMessageIds"] = [*(kids if isinstance(kids, list) else []), value]
    elif where == "missing":  # a key left out
        metadata = actor.get("metadata")
        holders = [(actor, "role"), (actor, "metadata"), (message, "actorId"), (message, "childMessageIds")]
        holder, key = draw(
            st.sampled_from(
                [*holders, *([(metadata, "modelConfigName")] if isinstance(metadata, dict) else [])]
            )
        )
        holder.pop(key, None)
    else:
        document["rootMessageIds"] = draw(st.one_of(junk, st.lists(st.one_of(ids, junk), max_size=2)))


def _contents(index: av.ConversationIndex) -> tuple[Any, ...]:
    return index.roles, index.models, index.children, index.roots, index.prompts


def _documented(document: dict[str, Any]) -> av.ConversationIndex:
    """The index as the documentation reads a document, built through the public constructor:
    each message's role is its actor's (None when the actor or its role is missing or no
    string), a model message's name its actor's ``modelConfigName`` (None likewise), its
    children and the roots are the string ids listed (none when the list is missing)."""
    actors = _object(document.get("actors"))
    messages = {message_id: _object(m) for message_id, m in _object(document.get("messages")).items()}
    actor_of = {
        message_id: _object(actors.get(m["actorId"])) if isinstance(m.get("actorId"), str) else {}
        for message_id, m in messages.items()
    }
    return av.ConversationIndex(
        roles={message_id: _text(actor.get("role")) for message_id, actor in actor_of.items()},
        models={
            message_id: _text(_object(actor.get("metadata")).get("modelConfigName"))
            for message_id, actor in actor_of.items()
            if actor.get("role") == "model"
        },
        children={message_id: _strings(m.get("childMessageIds")) for message_id, m in messages.items()},
        roots=_strings(document.get("rootMessageIds")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


@settings(max_examples=400, deadline=None)
@given(documents())
def test_the_index_reads_any_document_as_documented(document: dict[str, Any]) -> None:
    """Whichever way `from_row_data` indexes a document (in one pass when it is well formed), it
    gives what the documented reading gives, for a dict and for its JSON text alike."""
    expected = _documented(copy.deepcopy(document))
    for given_as in (document, json.dumps(document)):
        index = av.ConversationIndex.from_row_data(given_as)
        assert _contents(index) == _contents(expected)
        assert index.turns() == expected.turns()


# --- a damaged document, as the validation reads it ------------------------------------------------

NAMED = st.sampled_from(["model a", "model b", "model c"])


@st.composite
def lines_on(draw: st.DrawFn, key: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines naming messages of `documents()` (or none), right or wrong for `document`: for every
    message, a ranking of its children as a careless reader takes them (any child whose actor
    names a model, whatever its role), which is right exactly when nothing on the way is
    damaged; then drawn ones."""
    line = ann.annotation_line
    lines = [
        line(ann.message_ranking("Rank", ranked, parent_message_id=parent), global_key=key)
        for parent in MESSAGE_IDS
        if (ranked := _careless(document, parent))
    ]
    pairs = st.tuples(ids, NAMED)
    parent = draw(ids)
    ranked = draw(st.lists(pairs, min_size=1, max_size=3, unique_by=lambda p: p[0]))
    return [
        *lines,
        line(ann.message_ranking("Rank", ranked, parent_message_id=parent), global_key=key),
        line(ann.single_selection("Best", draw(pairs), parent_message_id=parent), global_key=key),
        line(ann.multi_selection("Good", ranked, parent_message_id=parent), global_key=key),
        line(ann.radio("Response quality", "good"), global_key=key, message_id=draw(ids)),
    ]


ONTOLOGY = build_ontology(SCENARIO_SPEC)


def _careless(document: dict[str, Any], parent: str) -> list[tuple[str, str]]:
    try:
        kids = document["messages"][parent]["childMessageIds"]
        found = []
        for kid in dict.fromkeys(k for k in kids if isinstance(k, str)):
            actor = document["actors"][document["messages"][kid]["actorId"]]
            found.append((kid, actor["metadata"]["modelConfigName"]))
    except (LookupError, TypeError, AttributeError):
        return []
    return [(kid, name) for kid, name in found if isinstance(name, str)]


def _issues(lines: list[dict[str, Any]], documents: dict[str, Any]) -> list[str]:
    found = ann.collect_annotation_issues(lines, ONTOLOGY, documents, check_required=False)
    return [str(issue) for issue in found]


@settings(max_examples=600, deadline=None)
@given(documents(), st.data())
def test_a_dict_document_is_judged_as_its_index_and_its_text(document: dict[str, Any], data: Any) -> None:
    """A row_data dict is read lazily by the fast path (only the prompts a line names) and in full
    by the detailed checks; its JSON text and its `ConversationIndex` are read in full by both.
    Over documents damaged anywhere, the verdicts and every message agree."""
    key = "conv"
    lines = data.draw(lines_on(key, document))
    as_text = _issues(lines, {key: json.dumps(document)})
    assert _issues(lines, {key: av.ConversationIndex.from_row_data(copy.deepcopy(document))}) == as_text
    assert _issues(lines, {key: document}) == as_text


@settings(max_examples=300, deadline=None)
@given(documents(), st.data())
def test_the_fast_and_detailed_routes_accept_the_same_rankings(document: dict[str, Any], data: Any) -> None:
    """A ranking listed best first is confirmed by the fast path; the same ranking listed worst
    first (orders n..1, just as valid) is left to the detailed checks: over damaged documents
    both are accepted, or both refused."""
    key = "conv"
    documents = {key: document}
    for best_first in data.draw(lines_on(key, document)):
        if best_first["name"] != "Rank":
            continue
        worst_first = copy.deepcopy(best_first)
        worst_first["messageEvaluationTask"]["data"]["rankedMessages"].reverse()
        assert bool(_issues([best_first], documents)) == bool(_issues([worst_first], documents))


def test_a_document_is_judged_by_the_prompt_a_line_names() -> None:
    """The responses of a prompt are its children written by model actors; a child that is no
    message of the document, or a human message, is none; only human messages are parents."""
    document = {
        "actors": {
            "u": {"role": "human", "metadata": {}},
            "g": {"role": "model", "metadata": {"modelConfigName": "gpt"}},
            "c": {"role": "model", "metadata": {"modelConfigName": "claude"}},
        },
        "messages": {
            "p": {"actorId": "u", "childMessageIds": ["a", "b", "nowhere", "q"]},
            "a": {"actorId": "g"},
            "b": {"actorId": "c"},
            "q": {"actorId": "u", "childMessageIds": []},
        },
        "rootMessageIds": ["p"],
    }
    line = ann.annotation_line
    documents = {"k": document}
    ranking = ann.message_ranking("Rank", [("b", "claude"), ("a", "gpt")], parent_message_id="p")
    assert _issues([line(ranking, global_key="k")], documents) == []
    for parent in ("q", "a", "nowhere"):
        best = ann.single_selection("Best", ("a", "gpt"), parent_message_id=parent)
        assert _issues([line(best, global_key="k")], documents), parent
    scoped = ann.radio("Response quality", "good")
    assert _issues([line(scoped, global_key="k", message_id="q")], documents) == []
    assert _issues([line(scoped, global_key="k", message_id="nowhere")], documents)


def test_prompts_list_the_model_responses_of_each_human_message() -> None:
    index = av.ConversationIndex.from_row_data(
        {
            "actors": {
                "u": {"role": "human", "metadata": {}},
                "g": {"role": "model", "metadata": {"modelConfigName": "gpt"}},
            },
            "messages": {
                "p": {"actorId": "u", "childMessageIds": ["a", "q", "nowhere"]},
                "a": {"actorId": "g"},
                "q": {"actorId": "u", "childMessageIds": []},
            },
            "rootMessageIds": ["p"],
        }
    )
    assert index.prompts == {"p": {"a": "gpt"}, "q": {}}


# --- the fast routes of an import ------------------------------------------------------------------


def _record(key: str, label: Label, parent: str, models: dict[str, str]) -> dict[str, Any]:
    """The annotation record that says what `label` says (`models`: message id -> model)."""
    record: dict[str, Any] = {"key": key, "classifications": {}, "prompt_classifications": {}}
    for item in label.annotations:
        if isinstance(item, Tool):
            named = [model for _, model in item.messages]
            if item.kind == "ranking":
                record["ranking"] = named
            elif item.kind == "single":
                record["best"] = named[0]
            else:
                record["good"] = named
        elif item.message_id is None:
            record["classifications"][item.name] = _answer(item)
        elif item.message_id == parent:
            record["prompt_classifications"][item.name] = _answer(item)
        else:
            record["classifications"][item.name] = {models[item.message_id]: _answer(item)}
    return record


def _answer(item: Classification) -> Any:
    if item.kind == "text":
        return item.value
    if item.kind == "radio":
        return _option(item.value)
    return [_option(option) for option in item.value]


def _option(option: Option) -> Any:
    if not option.nested:
        return option.name
    return {"answer": option.name, "classifications": {c.name: _answer(c) for c in option.nested}}


def _renamed(document: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """The document with its messages under other ids: ready-made row_data, whose ids are not
    the conversation builder's (a record then resolves its models through the document)."""
    moved = copy.deepcopy(document)
    moved["messages"] = {
        renamed[message_id]: {
            **message,
            "childMessageIds": [renamed[k] for k in message.get("childMessageIds", [])],
        }
        for message_id, message in moved["messages"].items()
    }
    moved["rootMessageIds"] = [renamed[r] for r in moved["rootMessageIds"]]
    return moved


def _relabelled(label: Label, renamed: dict[str, str]) -> Label:
    annotations: list[Any] = []
    for item in label.annotations:
        if isinstance(item, Tool):
            messages = tuple((renamed[m], model) for m, model in item.messages)
            annotations.append(dataclasses.replace(item, parent=renamed[item.parent], messages=messages))
        elif item.message_id is not None:
            annotations.append(dataclasses.replace(item, message_id=renamed[item.message_id]))
        else:
            annotations.append(item)
    return dataclasses.replace(label, annotations=annotations)


def _sorted_lines(body: bytes) -> list[bytes]:
    return sorted(body.split(b"\n")) if body else []


@SETTINGS
@given(scenarios(), st.booleans())
def test_records_lines_and_builders_give_the_same_bytes_by_every_route(
    case: Scenario, ready_made: bool
) -> None:
    """A record read trusting (the builder's ids) or checked (ready-made row_data: its ids are
    resolved through the document), dict lines, typed lines and JSON text lines: one body."""
    global_key = global_key_for(case.key)
    document = next(iter(case.documents.values()))
    label = dataclasses.replace(case.label, data_row={"global_key": global_key}, benchmark=False)
    parent = prompt_message_id(case.key)
    models = {response_ref(case.key, model).message_id: model for model in case.models}
    if ready_made:
        renamed = {message_id: f"x{index}" for index, message_id in enumerate(document["messages"])}
        document, label = _renamed(document, renamed), _relabelled(label, renamed)
        parent, models = renamed[parent], {renamed[m]: model for m, model in models.items()}
    documents = {global_key: document}
    record = _record(case.key, label, parent, models)
    expected = _sorted_lines(ann.build_ndjson(ours_typed(label), case.ontology, documents))
    assert _sorted_lines(ann.build_ndjson(ours(label), case.ontology, documents)) == expected
    text = [json.dumps(line, ensure_ascii=False) for line in ours(label)]
    assert _sorted_lines(ann.build_ndjson(text, case.ontology, documents)) == expected
    if label.annotations:
        assert _sorted_lines(ann.build_ndjson([json.dumps(record)], case.ontology, documents)) == expected


@SETTINGS
@given(scenarios(), st.data())
def test_a_line_refused_by_the_fast_path_is_judged_as_the_others_are(
    case: Scenario, data: st.DataObject
) -> None:
    """Rankings listed in another order than best first and checklists spelled ``answers`` are
    valid but left to the detailed checks: the import accepts them as the rest, and each line's
    bytes are the line as given, with the uuid of what it says."""
    lines = ours(case.label)
    respelled = []
    for line in lines:
        line = copy.deepcopy(line)
        task = line.get("messageEvaluationTask")
        if task is not None and task["format"] == "message-ranking":
            task["data"]["rankedMessages"].reverse()
        elif isinstance(line.get("answer"), list) and data.draw(st.booleans()):
            line["answers"] = line.pop("answer")
        respelled.append(line)
    validator = av.AnnotationValidator(case.ontology, case.documents)
    for number, line in enumerate(respelled, start=1):
        assert validator.check(line, number) == [], line
    body = ann.build_ndjson(respelled, case.ontology, case.documents)
    written = [json.loads(x) for x in _sorted_lines(body)]
    assert sorted(line.pop("uuid") for line in written) == sorted(map(ann.annotation_uuid, respelled))
    assert sorted(map(json.dumps, written)) == sorted(json.dumps(x, sort_keys=True) for x in respelled)


def test_a_ranking_out_of_order_is_accepted_by_the_detailed_checks(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    line = valid_lines()[0]
    ranked = line["messageEvaluationTask"]["data"]["rankedMessages"]
    ranked.reverse()  # orders 3, 2, 1: still exactly 1..n
    validator = av.AnnotationValidator(ontology, documents)
    assert validator.check_line(av.parse_line(line), 1) == []
    assert validator.finish() == []


def test_a_line_refused_by_the_fast_path_is_recorded_once(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    """A refused line is then explained; had the fast path counted it or registered its uuid, the
    explanation would report a duplicate of the line itself."""
    line = valid_lines()[0]
    line["uuid"] = "0b7e0f6e-1111-4111-8111-111111111111"
    line["messageEvaluationTask"]["data"]["rankedMessages"].reverse()
    validator = av.AnnotationValidator(ontology, documents)
    issues = validator.check_line(av.parse_line(line), 1)
    assert issues == []
    again = validator.check_line(av.parse_line(line), 2)
    assert [i.message for i in again] == [
        "uuid 0b7e0f6e-1111-4111-8111-111111111111 is used twice in this import (first at line 1)"
    ]
