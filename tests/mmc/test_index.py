"""The one conversation index as the emulator reads stored row_data: what it answers of a row."""

from __future__ import annotations

import json

import pytest

from airflow_mmc_provider.mmc.conversation.index import stored_row_index

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
