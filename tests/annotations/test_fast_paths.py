"""The speed-ups keep their promises: the uuid is uuid5's, the one-pass conversation index is the
defensive one, and `accept` (the fast path) never confirms a line the detailed checks reject."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc import annotation_validation as av
from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.uuids import uuid_hash

from .neutral import ours
from .scenario import valid_lines
from .strategies import Scenario, scenarios
from .test_properties import mutations

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_uuid_is_uuid5_of_any_text(name: str) -> None:
    assert uuid_hash(name.encode()) == str(uuid.uuid5(ann.ANNOTATION_NAMESPACE, name))


# --- the conversation index -----------------------------------------------------------------------

ids = st.sampled_from(["p0", "m1", "m2", "m3", "p4", "m5", "ghost"])
junk = st.one_of(st.none(), st.integers(), st.just(""), st.just([]), st.just({}), st.just("text"))


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
        kids = draw(st.lists(ids, max_size=3))
        if kids or draw(st.booleans()):
            message["childMessageIds"] = kids
        messages[message_id] = message
    document = {"actors": actors, "messages": messages, "rootMessageIds": ["p0"]}
    for _ in range(draw(st.integers(0, 3))):
        _damage(draw, document)
    if draw(st.integers(0, 9)) == 0:
        document[draw(st.sampled_from(["actors", "messages"]))] = draw(junk)
    return document


def _damage(draw: st.DrawFn, document: dict[str, Any]) -> None:
    where = draw(st.sampled_from(["role", "metadata", "name", "actorId", "kids", "kid", "roots"]))
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
    else:
        document["rootMessageIds"] = draw(st.one_of(junk, st.lists(st.one_of(ids, junk), max_size=2)))


def _contents(index: av.ConversationIndex) -> tuple[Any, ...]:
    return index.roles, index.models, index.children, index.roots, index.prompts


@settings(max_examples=400, deadline=None)
@given(documents())
def test_the_one_pass_index_is_the_defensive_one_or_refuses(document: dict[str, Any]) -> None:
    defensive = av.ConversationIndex._defensive(copy.deepcopy(document))
    try:
        fast = av.ConversationIndex._well_formed(document)
    except (AttributeError, KeyError, TypeError):
        return  # the defensive index is used
    assert _contents(fast) == _contents(defensive)
    assert fast.turns() == defensive.turns()


@settings(max_examples=400, deadline=None)
@given(documents(), st.lists(ids, min_size=1, max_size=4))
def test_the_lazy_document_answers_as_the_full_index_or_refuses(
    document: dict[str, Any], asked: list[str]
) -> None:
    """What the fast paths read of a document on demand is what the full index says, or None."""
    full = av.ConversationIndex.from_row_data(copy.deepcopy(document))
    view = av.RowDocument.of(document)
    answered = 0
    for parent in asked:
        responses = view.prompt_responses(parent)
        if responses is not None:
            answered += 1
            assert responses == full.prompts[parent]
            assert view.prompts[parent] is responses
    assert {m: m in view.message_ids for m in asked} == {m: m in full.roles for m in asked}
    if isinstance(view, av.RowDocument):
        assert _contents(view.index()) == _contents(full)


def test_the_lazy_document_reads_a_well_formed_prompt() -> None:
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
    view = av.RowDocument.of(document)
    assert isinstance(view, av.RowDocument)
    assert view.prompt_responses("p") == {"a": "gpt", "b": "claude"}
    assert view.prompt_responses("q") == {}
    assert view.prompt_responses("a") is None  # a model message is no prompt
    assert view.prompt_responses("nowhere") is None
    assert "q" in view.message_ids and "nowhere" not in view.message_ids


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


# --- the fast path ---------------------------------------------------------------------------------


def _accepted_and_explained(line: dict[str, Any], case: Scenario, documents: bool) -> tuple[bool, list[Any]]:
    """What `accept` says of a line, and what the detailed checks say of it in a fresh validator."""
    typed = av.parse_line(line)
    docs = case.documents if documents else None
    accepted = av.AnnotationValidator(case.ontology, docs).accept(typed, 1, "not-a-generated-uuid")
    explained = av.AnnotationValidator(case.ontology, docs).explain_line(
        typed, 1, uuid="not-a-generated-uuid"
    )
    return accepted, explained


@SETTINGS
@given(scenarios(), st.data(), st.booleans())
def test_accept_confirms_valid_lines_and_nothing_the_detailed_checks_reject(
    case: Scenario, data: st.DataObject, with_documents: bool
) -> None:
    lines = ours(case.label)
    for line in lines:
        assert _accepted_and_explained(line, case, with_documents) == (True, [])
    if lines:
        line = data.draw(st.sampled_from(lines))
        for what, mutated, _ in mutations(line, case):
            try:
                accepted, explained = _accepted_and_explained(mutated, case, with_documents)
            except av.LineShapeError:
                continue
            assert not (accepted and explained), (what, [str(i) for i in explained])


def test_a_ranking_out_of_order_is_left_to_the_detailed_checks_which_accept_it(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    line = valid_lines()[0]
    ranked = line["messageEvaluationTask"]["data"]["rankedMessages"]
    ranked.reverse()  # orders 3, 2, 1: still exactly 1..n
    validator = av.AnnotationValidator(ontology, documents)
    typed = av.parse_line(line)
    assert validator.accept(typed, 1) is False
    assert validator.check_line(typed, 1) == []
    assert validator.finish() == []


def test_accept_records_nothing_for_a_line_it_refuses(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    """A refused line is then explained; had `accept` counted it or registered its uuid, the
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
