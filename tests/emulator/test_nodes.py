"""The one mapper from the store's records to GraphQL nodes (`emulator.graphql.nodes`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from airflow_mmc_provider.emulator.graphql.nodes import node_mapper


@dataclass(frozen=True)
class _Record:
    id: str
    project_id: str
    created_by: str | None
    consensus_settings: dict[str, int] | None
    input_json: str
    created_at: str


def test_fields_are_camel_case_and_references_stay_out_of_the_sdl_names() -> None:
    node = node_mapper(
        _Record,
        renames={"consensus_settings": "consensusSettingsJson"},
        omitted=("input_json",),
        extra=lambda record: {"issues": {"totalCount": 0}, "lastLoginAt": record.created_at},
    )
    record = _Record("r1", "p1", "u1", None, "{}", "2024-01-01T00:00:00Z")
    assert node(record) == {
        "id": "r1",
        "_projectId": "p1",
        "_createdBy": "u1",
        "consensusSettingsJson": None,
        "createdAt": "2024-01-01T00:00:00Z",
        "issues": {"totalCount": 0},
        "lastLoginAt": "2024-01-01T00:00:00Z",
    }
    assert node(record)["issues"] is not node(record)["issues"]  # nodes share no mutable value


def test_a_rename_or_omission_of_no_field_is_refused_when_the_mapper_is_made() -> None:
    with pytest.raises(TypeError, match="consensus"):
        node_mapper(_Record, renames={"consensus": "consensusSettingsJson"})
    with pytest.raises(TypeError, match="input"):
        node_mapper(_Record, omitted=("input",))
