"""Checks of ready-made row_data documents, as users hand them in."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_mmc_provider.mmc.conversation.document import (
    MAX_INLINE_CHARS,
    ConversationDocument,
    FileContent,
    TextContent,
    document_issues,
    document_response_refs,
    to_row_data,
    validate_document,
)
from airflow_mmc_provider.mmc.errors import ValidationError

# Ids in Labelbox's restaurant sample: the first prompt, its two responses, the shared follow-up.
ROOT = "clxfzhair00023b6vb607bqo6"
A = "clxfzi3r400053b6vm5udpdgo"
B = "clxfzi3r400063b6vuaeajylo"
FOLLOW_UP = "clxfznjb800073b6v43ppx9ca"
HUMAN = "clxfzhair00013b6vlatdodq2"


def problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.field, i.message) for i in document_issues(document, key="k", line=2)]


def test_labelbox_sample_documents_are_valid(restaurant_row_data):
    assert document_issues(restaurant_row_data) == []
    typed = validate_document(restaurant_row_data)
    assert isinstance(typed, ConversationDocument)
    assert typed.messages[FOLLOW_UP].content == [TextContent("Tell me more")]
    assert to_row_data(typed) == restaurant_row_data


def test_file_parts_are_typed(car_image_row_data):
    for actor in car_image_row_data["actors"].values():
        actor["metadata"].setdefault("modelConfigName", "m")
    typed = validate_document(car_image_row_data)
    parts = [p for m in typed.messages.values() for p in m.content if isinstance(p, FileContent)]
    assert parts == [
        FileContent("https://c7.staticflickr.com/3/2447/3799589580_4b73283f92_o.jpg", "image/jpeg")
    ]


def test_unknown_actor(restaurant_row_data):
    restaurant_row_data["messages"][A]["actorId"] = "ghost"
    assert problems(restaurant_row_data) == [(f"messages['{A}'].actorId", "unknown actor 'ghost'")]


def test_missing_and_repeated_children(restaurant_row_data):
    restaurant_row_data["messages"][ROOT]["childMessageIds"] = [A, "gone", A, B]
    assert problems(restaurant_row_data) == [
        (f"messages['{ROOT}'].childMessageIds[1]", "child 'gone' is not a message"),
        (f"messages['{ROOT}'].childMessageIds[2]", f"child '{A}' is listed twice"),
    ]


def test_cycle(restaurant_row_data):
    restaurant_row_data["messages"][FOLLOW_UP]["childMessageIds"].append(ROOT)
    [(field, message)] = problems(restaurant_row_data)
    assert field.endswith(".childMessageIds") and message.startswith("messages form a cycle:")
    assert f"'{ROOT}' -> '{A}' -> '{FOLLOW_UP}' -> '{ROOT}'" in message


def test_detached_cycle_is_found_and_unreachable(restaurant_row_data):
    messages = restaurant_row_data["messages"]
    messages["x"] = {
        "actorId": HUMAN,
        "content": [{"type": "text", "content": "x"}],
        "childMessageIds": ["y"],
    }
    messages["y"] = {
        "actorId": HUMAN,
        "content": [{"type": "text", "content": "y"}],
        "childMessageIds": ["x"],
    }
    found = problems(restaurant_row_data)
    assert ("messages['y'].childMessageIds", "messages form a cycle: 'x' -> 'y' -> 'x'") in found
    assert [f for f, m in found if "not reachable" in m] == ["messages['x']", "messages['y']"]


def test_no_root_and_bad_root(restaurant_row_data):
    empty = copy.deepcopy(restaurant_row_data)
    empty["rootMessageIds"] = []
    assert problems(empty) == [("rootMessageIds", "no root message")]
    restaurant_row_data["rootMessageIds"] = ["nope", ROOT]
    assert problems(restaurant_row_data) == [("rootMessageIds[0]", "root 'nope' is not a message")]


def test_no_messages(restaurant_row_data):
    restaurant_row_data["messages"] = {}
    assert problems(restaurant_row_data) == [("messages", "the conversation has no messages")]


def test_model_actor_without_model_config_name(restaurant_row_data):
    actor = next(a for a in restaurant_row_data["actors"].values() if a["role"] == "model")
    actor["metadata"] = {"modelConfigId": "uuid"}
    [(field, message)] = problems(restaurant_row_data)
    assert field.endswith(".metadata.modelConfigName")
    assert (
        message == f"model actor has no modelConfigName (used by messages '{A}', 'clxfzocbm00083b6v8vczsept')"
    )


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        ([], "content", "empty content"),
        ([{"type": "text", "content": "  "}], "content[0].content", "empty content"),
        ([{"type": "image", "url": "x"}], "content[0].type", "type is 'image', which is not supported"),
        ([{"content": "x"}], "content[0].type", "type is missing"),
        (
            [{"type": "fileData", "fileUri": "https://x.io/a.tiff", "mimeType": "image/tiff"}],
            "content[0].mimeType",
            "unsupported MIME type 'image/tiff'",
        ),
        (
            [{"type": "fileData", "fileUri": "file.png", "mimeType": "image/png"}],
            "content[0].fileUri",
            "'file.png' is not an absolute URL Labelbox can fetch",
        ),
        (
            [{"type": "fileData", "fileUri": "https://x.io/a.png"}],
            "content[0].mimeType",
            "required field is missing",
        ),
        ([{"type": "text", "content": 5}], "content[0].content", "expected a string, got an integer"),
    ],
)
def test_content_problems(restaurant_row_data, content, field, message):
    restaurant_row_data["messages"][A]["content"] = content
    assert problems(restaurant_row_data) == [(f"messages['{A}'].{field}", message)]


def test_shape_and_graph_problems_are_reported_together(restaurant_row_data):
    restaurant_row_data["version"] = 1
    restaurant_row_data["actors"][HUMAN]["role"] = "user"
    restaurant_row_data["messages"][A]["childMessageIds"] = ["gone"]
    restaurant_row_data["messages"][B]["childMessageId"] = []
    fields = [field for field, _ in problems(restaurant_row_data)]
    assert fields == [
        "version",
        f"actors['{HUMAN}'].role",
        f"messages['{B}'].childMessageId",
        f"messages['{A}'].childMessageIds[0]",
    ]


def test_not_an_object():
    assert problems([]) == [("row_data", "expected a JSON object")]  # type: ignore[arg-type]


def test_unknown_top_level_keys_are_kept(restaurant_row_data):
    restaurant_row_data["draft"] = True
    restaurant_row_data["vendorExtension"] = {"x": 1}
    assert problems(restaurant_row_data) == []


def test_oversized_document(restaurant_row_data):
    restaurant_row_data["messages"][A]["content"][0]["content"] = "é" * MAX_INLINE_CHARS
    [(field, message)] = problems(restaurant_row_data)
    assert field == "row_data" and "characters of JSON" in message


def test_validate_document_raises_with_every_issue(restaurant_row_data):
    restaurant_row_data["rootMessageIds"] = []
    restaurant_row_data["messages"][A]["actorId"] = "ghost"
    with pytest.raises(ValidationError) as caught:
        validate_document(restaurant_row_data, key="conv-9")
    # Without a root, reachability is not reported message by message: the missing root says it all.
    assert [i.field for i in caught.value.issues] == ["rootMessageIds", f"messages['{A}'].actorId"]
    assert all(i.record == "record 'conv-9'" for i in caught.value.issues)


def test_response_refs_walk_comparisons_breadth_first(restaurant_row_data):
    refs = document_response_refs(validate_document(restaurant_row_data), key="r")
    assert [(r.turn, r.parent_message_id, r.message_id) for r in refs][:2] == [(0, ROOT, A), (0, ROOT, B)]
    assert {r.turn for r in refs} == {0, 1}
    assert all(r.key == "r" for r in refs)
