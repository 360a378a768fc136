"""The official SDK runs the seed's export code (shared/seeds/000) unchanged against the emulator.

A private emulator serves small export chunks (so every stream spans several chunk URLs whose
boundaries cut lines) and simulated raters label the batch; the seed's `project.export` and
`project.export_v2` blocks then run verbatim (their params and filters, the same values in both
blocks, written once above them), and their output is checked against the line layout of the seed's
sample export line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import labelbox as lb
import pytest
import requests

from airflow_mmc_provider.emulator.testing import EmulatorProcess, run_emulator

from .sdk_helpers import connected_project

pytestmark = pytest.mark.conformance

MODELS = ("GPT 5", "Gemini Ultra", "Claude Opus")
CHUNK_BYTES = 1500
RATERS = {"seed": 11, "raters": 3, "skills": {"GPT 5": 2.0, "Claude Opus": -1.0}}
# The params both of the seed's blocks switch on (its first block adds "interpolated_frames"), and
# the filters both pass: the seed's values, written once.
SEED_EXPORT_PARAMS = dict.fromkeys(
    (
        "attachments",
        "metadata_fields",
        "data_row_details",
        "project_details",
        "label_details",
        "performance_details",
    ),
    True,
)
SEED_EXPORT_FILTERS = {
    "last_activity_at": ["2000-01-01 00:00:00", "2050-01-01 00:00:00"],
    "workflow_status": "Done",
}


def conversation(index: int) -> dict:
    """A prompt answered by the three models (each model its own actor), with config ids."""
    actors = {"human": {"role": "human", "metadata": {"name": "User"}}}
    messages = {}
    children = []
    for n, model in enumerate(MODELS):
        actors[f"a{n}"] = {
            "role": "model",
            "metadata": {"modelConfigName": model, "modelConfigId": f"cfg-{n}"},
        }
        messages[f"r{index}-{n}"] = {"actorId": f"a{n}", "content": [{"type": "text", "content": f"Answer {n}"}],
                                     "childMessageIds": []}  # fmt: skip
        children.append(f"r{index}-{n}")
    messages[f"p{index}"] = {"actorId": "human", "content": [{"type": "text", "content": f"Question {index}?"}],
                             "childMessageIds": children}  # fmt: skip
    return {"type": "application/vnd.labelbox.conversational.model-chat-evaluation", "version": 2,
            "actors": actors, "messages": messages, "rootMessageIds": [f"p{index}"]}  # fmt: skip


def seed_rows() -> list[dict]:
    """The five rows that export cleanly, keyed ``export-seed-0`` to ``export-seed-4``."""
    return [{"row_data": conversation(i), "global_key": f"export-seed-{i}"} for i in range(5)]


def rated_project(
    emulator: EmulatorProcess, client: lb.Client, items: list[dict]
) -> tuple[lb.Project, lb.Batch, lb.Ontology]:
    """`items` as rows of a connected project's batch, labelled twice each by simulated raters (seed 11).

    The raters are switched on before the batch is created and off once every row is done.
    """
    task = client.create_dataset(name="export-seed").create_data_rows(items)
    task.wait_till_done()
    assert task.status == "COMPLETE" and not task.errors
    project, ontology = connected_project(client, "Export seed project")
    emulator.set_raters(RATERS)
    batch = project.create_batch(
        "round-1",
        global_keys=[i["global_key"] for i in items],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1.0},
    )
    deadline = time.monotonic() + 30
    while project.get_overview().done < len(items):
        assert time.monotonic() < deadline, "simulated raters did not label the batch"
        time.sleep(0.1)
    emulator.set_raters(None)
    return project, batch, ontology


@pytest.fixture(scope="module")
def exporting_emulator(
    tmp_path_factory: pytest.TempPathFactory, emulator_api_key: str
) -> Iterator[EmulatorProcess]:
    args = ["--export-chunk-bytes", str(CHUNK_BYTES), "--export-delay", "0.1"]
    with run_emulator(
        tmp_path_factory.mktemp("export-emulator"), emulator_api_key, extra_args=args
    ) as running:
        yield running


@pytest.fixture(scope="module")
def labelled_project(exporting_emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory):
    """A project of 6 rows (one marked to fail export), labelled twice each by simulated raters."""
    client = lb.Client(
        api_key=exporting_emulator.api_key,
        endpoint=exporting_emulator.graphql_url,
        rest_endpoint=f"{exporting_emulator.base_url}/api/v1",
    )
    bad = {
        "row_data": conversation(5),
        "global_key": "export-seed-bad",
        "external_id": "emulator:export-error-1",
    }
    project, batch, ontology = rated_project(exporting_emulator, client, [*seed_rows(), bad])
    return client, project, batch, ontology


def test_the_seed_export_code_streams_results_and_errors(labelled_project, capsys):
    _client, project, batch, ontology = labelled_project
    # --- the seed's first block, verbatim -------------------------------------------------------
    # Set the export params to include/exclude certain fields.
    export_params= {**SEED_EXPORT_PARAMS, "interpolated_frames": True}  # fmt: skip

    # Note: Filters follow AND logic, so typically using one filter is sufficient.
    filters= SEED_EXPORT_FILTERS  # fmt: skip

    export_task = project.export(params=export_params, filters=filters)
    export_task.wait_till_done()

    lines = []

    # Return JSON output strings from export task results/errors, one by one:

    # Callback used for JSON Converter
    def json_stream_handler(output: lb.BufferedJsonConverterOutput):
        print(output.json)
        lines.append(output.json)

    errors = []
    if export_task.has_errors():
        export_task.get_buffered_stream(
      stream_type=lb.StreamType.ERRORS
      ).start(stream_handler=lambda error: errors.append(error))  # fmt: skip

    if export_task.has_result():
        export_json = export_task.get_buffered_stream(  # noqa: F841
        stream_type=lb.StreamType.RESULT
      ).start(stream_handler=json_stream_handler)  # fmt: skip

    print("file size: ", export_task.get_total_file_size(stream_type=lb.StreamType.RESULT))
    print("line count: ", export_task.get_total_lines(stream_type=lb.StreamType.RESULT))
    # --------------------------------------------------------------------------------------------
    assert export_task.get_total_lines(stream_type=lb.StreamType.RESULT) == 5 == len(lines)
    assert (
        export_task.get_total_file_size(stream_type=lb.StreamType.RESULT) > 2 * CHUNK_BYTES
    )  # several chunks
    assert [e.json["data_row_id"] for e in errors] and errors[0].json["global_key"] == "export-seed-bad"
    assert sorted(line["data_row"]["global_key"] for line in lines) == [f"export-seed-{i}" for i in range(5)]
    assert "line count:  5" in capsys.readouterr().out

    line = lines[0]
    assert set(line) == {"data_row", "media_attributes", "attachments", "metadata_fields", "projects"}
    details = line["data_row"]["details"]
    assert set(details) == {
        "dataset_id",
        "dataset_name",
        "created_at",
        "updated_at",
        "last_activity_at",
        "created_by",
    }
    assert details["dataset_name"] == "export-seed" and details["created_at"].endswith("+00:00")
    index = int(line["data_row"]["global_key"].rsplit("-", 1)[1])
    assert line["media_attributes"] == {
        "asset_type": "conversational",
        "mime_type": "application/vnd.labelbox.conversational.model-chat-evaluation",
        "labelable_ids": [f"r{index}-0", f"r{index}-1", f"r{index}-2", f"p{index}"],
        "message_count": 4,
    }
    entry = line["projects"][project.uid]
    assert entry["name"] == "Export seed project"
    details = entry["project_details"]
    assert details["workflow_status"] == "DONE" and details["batch_id"] == batch.uid
    assert details["batch_name"] == "round-1" and details["consensus_expected_label_count"] == 2
    assert [h["next_task_name"] for h in details["workflow_history"]][-1] == "Initial labeling task"
    assert len(entry["labels"]) == 2
    raters = {label["label_details"]["created_by"] for label in entry["labels"]}
    assert len(raters) == 2 and all(r.endswith("@emulator.labelbox.invalid") for r in raters)
    label = entry["labels"][0]
    assert (
        label["performance_details"]["seconds_to_create"] > 0
        and label["performance_details"]["skipped"] is False
    )
    objects = {o["name"]: o for o in label["annotations"]["objects"]}
    assert set(objects) == {"Single message selection", "Multi message selection", "Message ranking"}
    tool_ids = {t.name: t.feature_schema_id for t in ontology.tools()}
    ranking = objects["Message ranking"]
    assert (
        ranking["annotation_kind"] == "MessageRanking"
        and ranking["feature_schema_id"] == tool_ids["Message ranking"]
    )
    ranked = ranking["ranked_messages"]
    assert ranked["parent_message_id"] == f"p{index}"
    assert [m["order"] for m in ranked["ranked_messages"]] == [1, 2, 3]
    assert {m["model_config_name"] for m in ranked["ranked_messages"]} == set(MODELS)
    assert all(m["model_config_id"].startswith("cfg-") for m in ranked["ranked_messages"])
    single = objects["Single message selection"]["selected_message"]
    assert single["message_id"] == ranked["ranked_messages"][0]["message_id"]
    multi = objects["Multi message selection"]["selected_messages"]["messages"]
    assert single["message_id"] in {m["message_id"] for m in multi}
    classifications = {c["name"]: c for c in label["annotations"]["classifications"] if "message_id" not in c}
    assert classifications["Choose the best response"]["radio_answer"]["value"] in (
        "Response A",
        "Response B",
        "Tie",
    )
    assert classifications["Choose the best response"]["value"] == "choose_the_best_response"
    assert "text_answer" in classifications["Provide a reason for your choice"]
    scoped = [c for c in label["annotations"]["classifications"] if "message_id" in c]
    assert len(scoped) == 3 and all(c["name"] == "checklist_convo" for c in scoped)
    assert all(c["conversational_checklist_answers"] for c in scoped)
    assert label["annotations"]["relationships"] == []


@pytest.mark.filterwarnings("ignore:The method export_v2:DeprecationWarning")
def test_the_seed_export_v2_code_returns_lists(labelled_project):
    _client, project, _batch, _ontology = labelled_project
    # --- the seed's second block, verbatim (prints replaced by captures) -----------------------
    export_params= SEED_EXPORT_PARAMS  # fmt: skip

    filters= SEED_EXPORT_FILTERS  # fmt: skip

    export_task = project.export_v2(params=export_params, filters=filters)
    export_task.wait_till_done()

    errors = None
    if export_task.errors:
        errors = export_task.errors  # fmt: skip

    export_json = export_task.result
    # --------------------------------------------------------------------------------------------
    assert len(export_json) == 5 and all(project.uid in row["projects"] for row in export_json)
    assert errors and errors[0]["global_key"] == "export-seed-bad"
    whole = requests.get(export_task.result_url, timeout=10)
    assert whole.status_code == 200 and len(whole.text.splitlines()) == 5


def test_filters_narrow_the_export(labelled_project):
    _client, project, batch, _ = labelled_project
    nothing = project.export(filters={"workflow_status": "ToLabel"})
    nothing.wait_till_done()
    assert not nothing.has_result() and not nothing.has_errors()
    assert nothing.get_total_lines(stream_type=lb.StreamType.RESULT) is None
    future = project.export(filters={"label_created_at": ["2049-01-01T00:00:00+0230", None]})
    future.wait_till_done()
    assert not future.has_result()
    keyed = project.export(
        filters={"global_keys": ["export-seed-1", "export-seed-3"], "batch_ids": [batch.uid]}
    )
    keyed.wait_till_done()
    found = []
    keyed.get_buffered_stream().start(stream_handler=lambda output: found.append(output.json))
    assert sorted(r["data_row"]["global_key"] for r in found) == ["export-seed-1", "export-seed-3"]
    # Params off: the optional keys are left out.
    assert set(found[0]) == {"data_row", "media_attributes", "projects"}
    assert set(found[0]["projects"][project.uid]) == {"name", "labels"}
    assert set(found[0]["projects"][project.uid]["labels"][0]) == {
        "label_kind",
        "version",
        "id",
        "annotations",
    }


def test_simulated_raters_are_reproducible(tmp_path: Path, emulator_api_key: str, labelled_project):
    """The same seed and global keys give the same annotations in a fresh emulator."""
    _, project, _, _ = labelled_project
    first = _annotations(project)
    assert first  # the module's project, labelled with seed 11
    with run_emulator(tmp_path / "again", emulator_api_key) as again:
        client = lb.Client(api_key=again.api_key, endpoint=again.graphql_url)
        replay, _batch, _ontology = rated_project(again, client, seed_rows())
        second = _annotations(replay)
    assert len(second) == 5 and second == {key: value for key, value in first.items() if key in second}


def _annotations(project) -> dict:
    """global key -> [(rater, ranking orders by model)] from an export."""
    task = project.export(params={"label_details": True})
    task.wait_till_done()
    rows = []
    task.get_buffered_stream().start(stream_handler=lambda output: rows.append(output.json))
    found = {}
    for row in rows:
        labels = row["projects"][project.uid]["labels"]
        found[row["data_row"]["global_key"]] = sorted(
            (
                label["label_details"]["created_by"],
                tuple(
                    (m["model_config_name"], m["order"])
                    for o in label["annotations"]["objects"] if o["name"] == "Message ranking"
                    for m in o["ranked_messages"]["ranked_messages"]
                ),
            )
            for label in labels
        )  # fmt: skip
    return found
