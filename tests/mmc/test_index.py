"""The one conversation index as the emulator reads stored row_data: what it answers of a row."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc.conversation.index import ConversationIndex, ViewDocument, stored_row_index
from airflow_mmc_provider.mmc.conversation.types import DocumentView

DOCUMENT = {
    "type": "application/vnd.labelbox.conversational.model-chat-evaluation",
    "version": 2,
    "actors": {
        "u": {"role": "human", "metadata": {"name": "User"}},
        "g": {"role": "model", "metadata": {"modelConfigName": "gpt", "modelConfigId": "cfg-g"}},
        "c": {"role": "model", "metadata": {"modelConfigId": "cfg-c"}},
    },
    "messages": {
        "p1": {"actorId": "u", "content": [], "childMessageIds": ["a1", "b1"]},
        "a1": {"actorId": "g", "content": [], "childMessageIds": ["p2"]},
        "b1": {"actorId": "c", "content": [], "childMessageIds": []},
        "p2": {"actorId": "u", "content": [], "childMessageIds": ["a2"]},
        "a2": {"actorId": "g", "content": [], "childMessageIds": []},
    },
    "rootMessageIds": ["p1"],
}


def test_a_stored_conversation_answers_its_turns_models_and_config_ids():
    index = stored_row_index(json.dumps(DOCUMENT))
    assert index is not None
    assert index.prompts_in_order() == [("p1", ["a1", "b1"]), ("p2", ["a2"])]
    assert [index.model(m) for m in ("a1", "b1", "p1")] == ["gpt", "cfg-c", None]  # name, else id
    assert index.model_config_ids() == {"a1": "cfg-g", "b1": "cfg-c", "a2": "cfg-g"}
    assert index.document_type == DOCUMENT["type"]
    assert list(index.roles) == ["p1", "a1", "b1", "p2", "a2"]
    assert [parent for parent, _ in index.turns()] == list(index.comparisons()) == ["p1", "p2"]


@pytest.mark.parametrize(
    "row_data", ["https://example.com/chat.json", "plain text", "[1, 2]", '{"messages": []}', "{}"]
)
def test_row_data_that_is_no_conversation_has_no_index(row_data):
    assert stored_row_index(row_data) is None


IDS = st.sampled_from(["p1", "a1", "b1", "p2", "a2", "gone"])  # "gone": named, never a message
ACTOR_IDS = st.sampled_from(["u", "g", "c", "x", "nobody"])  # "nobody": named, never an actor
METADATA = st.fixed_dictionaries(
    {},
    optional={
        "name": st.just("User"),
        "modelConfigName": st.sampled_from(["gpt", ""]),
        "modelConfigId": st.just("cfg"),
    },
)
ACTORS = st.dictionaries(
    ACTOR_IDS,
    st.fixed_dictionaries(
        {}, optional={"role": st.sampled_from(["human", "model", "system"]), "metadata": METADATA}
    ),
    max_size=4,
)
MESSAGES = st.dictionaries(
    IDS,
    st.fixed_dictionaries(
        {"content": st.just([])},
        optional={"actorId": ACTOR_IDS, "childMessageIds": st.lists(IDS, max_size=4)},
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(ACTORS, MESSAGES)
def test_the_export_s_lazy_reading_answers_as_the_index_of_the_same_document(actors: Any, messages: Any):
    """What the export reader asks of a row (`ViewDocument`, over the view decoded with its line)
    is what the one index answers of the same JSON, for documents with dangling ids, actors
    without roles or metadata, and roles the format does not know."""
    text = msgspec.json.encode({"actors": actors, "messages": messages, "rootMessageIds": ["p1"]})
    index = ConversationIndex.from_row_data(text)
    lazy = ViewDocument(msgspec.json.decode(text, type=DocumentView))
    for message_id in ["p1", "a1", "b1", "p2", "a2", "gone"]:
        assert lazy.children(message_id) == tuple(index.children.get(message_id, ()))
        writer = lazy.model_response(message_id)
        assert (writer is not None) == (index.roles.get(message_id) == "model")
        if writer is not None:
            assert writer.model_config_name == index.models[message_id]
            assert writer.model_config_id == index.model_config_id(message_id)
