"""Builders of export lines in Labelbox's shapes (wire reference sections 7.5, 9 and 10).

`conversation()` makes a row_data v2 document: one prompt (``prompt``) answered by one response per
model (``resp-<model>``), in the given display order. The annotation builders produce the export
shapes of section 9 (snake_case keys, ``feature_id``/``feature_schema_id`` as the service adds them).
"""

from __future__ import annotations

import json
from typing import Any

MMC = "application/vnd.labelbox.conversational.model-chat-evaluation"


def conversation(models: list[str], *, prompt: str = "prompt", with_names: bool = True) -> dict[str, Any]:
    actors: dict[str, Any] = {"user": {"role": "human", "metadata": {"name": "User"}}}
    messages: dict[str, Any] = {
        prompt: {
            "actorId": "user",
            "content": [{"type": "text", "content": "Which city is the capital of France?"}],
            "childMessageIds": [f"resp-{m}" for m in models],
        }
    }
    for model in models:
        metadata = {"modelConfigName": model} if with_names else {"modelConfigId": f"cfg-{model}"}
        actors[f"actor-{model}"] = {"role": "model", "metadata": metadata}
        messages[f"resp-{model}"] = {
            "actorId": f"actor-{model}",
            "content": [{"type": "text", "content": f"Paris, says {model}."}],
            "childMessageIds": [],
        }
    return {"type": MMC, "version": 2, "actors": actors, "messages": messages, "rootMessageIds": [prompt]}


def _feature(name: str) -> dict[str, Any]:
    return {"feature_id": f"fid-{name}", "feature_schema_id": f"sid-{name}", "name": name}


def ranking(
    name: str, order: list[str | list[str]], *, parent: str = "prompt", names: bool = True
) -> dict[str, Any]:
    """``order``: best first; a list inside is a group of tied models."""
    ranked = []
    for position, group in enumerate(order, start=1):
        for model in [group] if isinstance(group, str) else group:
            item: dict[str, Any] = {"message_id": f"resp-{model}", "order": position}
            if names:
                item["model_config_name"] = model
            ranked.append(item)
    return {
        **_feature(name),
        "annotation_kind": "MessageRanking",
        "classifications": [],
        "ranked_messages": {"ranked_messages": ranked, "parent_message_id": parent},
    }


def single(name: str, model: str, *, parent: str = "prompt") -> dict[str, Any]:
    return {
        **_feature(name),
        "annotation_kind": "MessageSingleSelection",
        "classifications": [],
        "selected_message": {
            "message_id": f"resp-{model}",
            "model_config_name": model,
            "parent_message_id": parent,
        },
    }


def multi(name: str, models: list[str], *, parent: str = "prompt") -> dict[str, Any]:
    return {
        **_feature(name),
        "annotation_kind": "MessageMultiSelection",
        "classifications": [],
        "selected_messages": {
            "messages": [{"message_id": f"resp-{m}", "model_config_name": m} for m in models],
            "parent_message_id": parent,
        },
    }


def answer(name: str, nested: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {**_feature(name), "value": name.lower().replace(" ", "_"), "classifications": nested or []}


def radio(
    name: str, choice: str, *, message: str | None = None, nested: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return _answered(name, "radio_answer", answer(choice, nested), message)


def checklist(name: str, choices: list[str], *, message: str | None = None) -> dict[str, Any]:
    return _answered(name, "checklist_answers", [answer(c) for c in choices], message)


def text(name: str, content: str, *, message: str | None = None) -> dict[str, Any]:
    return _answered(name, "text_answer", {"content": content, "classifications": []}, message)


def _answered(name: str, field: str, body: Any, message: str | None) -> dict[str, Any]:
    """A classification with its answer under `field`, or, message-scoped, its ``message_id``
    and the answer under ``conversational_<field>`` (the export's two spellings)."""
    result = {**_feature(name), "value": name.lower()}
    if message is None:
        result[field] = body
    else:
        result["message_id"] = message
        result["conversational_" + field] = body
    return result


def label(
    label_id: str,
    *,
    objects: list[dict[str, Any]] | None = None,
    classifications: list[dict[str, Any]] | None = None,
    rater: str = "rater@example.com",
) -> dict[str, Any]:
    return {
        "label_kind": "Default",
        "version": "1.0.0",
        "id": label_id,
        "label_details": {
            "created_at": "2024-05-29T12:33:21.000+00:00",
            "updated_at": "2024-05-29T12:33:21.000+00:00",
            "created_by": rater,
            "content_last_updated_at": "2024-05-29T12:33:20.787+00:00",
            "reviews": [],
        },
        "performance_details": {"seconds_to_create": 25, "seconds_to_review": 0, "skipped": False},
        "annotations": {
            "objects": objects or [],
            "classifications": classifications or [],
            "relationships": [],
        },
    }


def line(
    row_id: str,
    labels: list[dict[str, Any]],
    *,
    models: list[str] | None = None,
    document: dict[str, Any] | None = None,
    row_data_as_string: bool = True,
    project_id: str = "proj-1",
    workflow_status: str = "DONE",
    batch_id: str = "batch-1",
    extra_projects: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc = document if document is not None else conversation(models or ["gpt", "claude"])
    projects = {
        project_id: {
            "name": "Evaluation",
            "labels": labels,
            "project_details": {
                "ontology_id": "onto-1",
                "task_id": "task-1",
                "task_name": "Done",
                "batch_id": batch_id,
                "batch_name": "round-1",
                "workflow_status": workflow_status,
                "priority": 5,
                "consensus_expected_label_count": len(labels),
                "workflow_history": [],
            },
            "project_tags": [],
        }
    }
    projects.update(extra_projects or {})
    return {
        "data_row": {
            "id": row_id,
            "global_key": f"gk-{row_id}",
            "external_id": f"ext-{row_id}",
            "row_data": json.dumps(doc) if row_data_as_string else doc,
            "details": {"dataset_id": "ds-1", "dataset_name": "conversations"},
        },
        "media_attributes": {"asset_type": "conversational", "mime_type": MMC},
        "attachments": [],
        "metadata_fields": [],
        "projects": projects,
    }


def ndjson(*lines: dict[str, Any]) -> list[bytes]:
    return [json.dumps(item).encode() for item in lines]
