"""A format change is one edit: a field added to the one definition travels the whole route.

A ranked message is `MessageItem` (`mmc.annotations.types`): the typed builder makes it, the rules
check it, the emulator's import takes it, its export writer (`emulator.labels.Renderer`) writes it
into the export's Struct that `mmc.export.wire` derives from it, and the export reader decodes that.
The conversation builder and every reader of row_data take their types from
`mmc.conversation.types`. Each test edits its types module's source (one added line, as a developer
would), loads the edited module in a fresh interpreter in place of the original, and checks that
the new field arrives at every stage, with no other change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import airflow_mmc_provider

# Each test runs a fresh interpreter (the edited module must stand in for the original before
# anything imports it), one of the processes `make quick` leaves out (tests/conftest.py).

PACKAGE = Path(airflow_mmc_provider.__file__).parent

# Loads `module` from its source with one edit (`anchor` -> `anchor` + `added`) before anything
# imports it, then runs `body`, which prints one JSON document.
HARNESS = """
import importlib.util, json, pathlib, sys
path = pathlib.Path({path!r})
source = path.read_text()
assert source.count({anchor!r}) == 1, "the anchor line must be unique"
source = source.replace({anchor!r}, {anchor!r} + {added!r})
spec = importlib.util.spec_from_loader({module!r}, loader=None, origin=str(path))
edited = importlib.util.module_from_spec(spec)
edited.__file__ = str(path)
sys.modules[{module!r}] = edited
exec(compile(source, str(path), "exec"), edited.__dict__)
"""


def run_edited(relative: str, anchor: str, added: str, body: str) -> dict:
    module = "airflow_mmc_provider." + relative.removesuffix(".py").replace("/", ".")
    script = HARNESS.format(path=str(PACKAGE / relative), anchor=anchor, added=added, module=module)
    done = subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PACKAGE.parent,  # `tests.export.emulated` is imported by the route
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# The whole route of a ranked message, in one interpreter: built with the typed builder, validated
# and encoded by the import path (`build_ndjson`, the rules' one entry point), imported into an
# emulator in this process, exported by its writer, read by the export reader. Prints what each
# stage holds of the ranked messages.
ROUTE = """
    import json, pathlib
    import msgspec
    from airflow_mmc_provider.mmc.annotations.build import LabelLines
    from airflow_mmc_provider.mmc.annotations.ndjson import build_ndjson
    from airflow_mmc_provider.mmc.annotations.types import MessageItem
    from airflow_mmc_provider.mmc.conversation.build import build_row_data, response_refs
    from airflow_mmc_provider.mmc.conversation.types import ConversationRecord
    from airflow_mmc_provider.mmc.export.reader import ExportReader, decode_line
    from airflow_mmc_provider.mmc.ontology.spec import build_ontology
    from tests.export.emulated import emulated_project

    record = ConversationRecord(key="row-1", prompt="Capital of France?",
                                responses={{"gpt": "Paris, I think.", "claude": "Paris."}})
    row_data, (gpt, claude) = build_row_data(record), response_refs(record)
    ontology = build_ontology({{"tools": [{{"name": "Rank", "type": "message-ranking"}}]}})
    best_first = [MessageItem(message_id=ref.message_id, model_config_name=ref.model_config_name,
                              {extra}) for ref, rationale in ((claude, "exact"), (gpt, "wordy"))]
    line = LabelLines(global_key="row-1").message_ranking(
        "Rank", best_first, parent_message_id=claude.parent_message_id)
    body = build_ndjson([line], ontology, {{"row-1": row_data}})
    project = emulated_project(pathlib.Path({data_dir!r}), ontology, json.dumps(row_data), "row-1")
    statuses = project.import_labels(body)
    exported = project.export()
    [tool] = decode_line(exported).projects[project.project_id].labels[0].annotations.objects
    [label] = ExportReader(exported.splitlines()).labels()
    result = {{
        "built": msgspec.to_builtins(line.message_evaluation_task.data.ranked_messages),
        "encoded": json.loads(body)["messageEvaluationTask"]["data"]["rankedMessages"],
        "imported": [status["status"] for status in statuses],
        "errors": [error["message"] for status in statuses for error in status.get("errors", [])],
        "exported": [{{key: m[key] for key in ("model_config_name", "rationale") if key in m}}
                     for m in json.loads(exported)["projects"][project.project_id]["labels"][0]
                     ["annotations"]["objects"][0]["ranked_messages"]["ranked_messages"]],
        "read": [msgspec.structs.asdict(m).get("rationale") for m in tool.ranked_messages.ranked_messages],
        "ranked": [response.model for response in label.rankings[0].ranked],
    }}
"""
SHOW = """
    print(msgspec.json.encode(result).decode())
"""
MESSAGE_ITEM = "    order: int | None = None\n"  # the last field of `MessageItem`, which the edit follows


def test_a_field_added_to_the_ranked_message_goes_from_the_builder_to_the_export_reader(tmp_path):
    """The one edit: one line in `MessageItem`; builder, rules, import, export writer and export
    reader carry the new field with no other change."""
    body = ROUTE.format(extra="rationale=rationale", data_dir=str(tmp_path)) + SHOW
    result = run_edited(
        "mmc/annotations/types.py", MESSAGE_ITEM, added="    rationale: str | None = None\n", body=body
    )
    assert [m["rationale"] for m in result["built"]] == ["exact", "wordy"]
    assert [m["rationale"] for m in result["encoded"]] == ["exact", "wordy"]
    assert result["imported"] == ["SUCCESS"] and result["errors"] == []
    assert result["exported"] == [
        {"model_config_name": "claude", "rationale": "exact"},
        {"model_config_name": "gpt", "rationale": "wordy"},
    ]
    assert result["read"] == ["exact", "wordy"]
    assert result["ranked"] == ["claude", "gpt"]


# Without the edit: the same field given to the builder, to the rules (a dict line) and to the
# emulator's import (the encoded line with the field added) is refused by each.
REFUSED = """
    try:
        MessageItem(message_id=gpt.message_id, model_config_name="gpt", rationale="wordy")
    except TypeError as error:
        result["builder"] = str(error)
    carrying = json.loads(body)
    carrying["messageEvaluationTask"]["data"]["rankedMessages"][0]["rationale"] = "exact"
    del carrying["uuid"]
    try:
        build_ndjson([carrying], ontology, {"row-1": row_data})
    except ValueError as error:
        result["rules"] = str(error)
    refused = project.import_labels(json.dumps(carrying).encode(), name="carrying")
    result["import"] = [error["message"] for status in refused for error in status.get("errors", [])]
"""


def test_without_the_edit_the_field_is_refused_and_not_exported(tmp_path):
    """The control: the edit, not the input, is what carries the field."""
    body = ROUTE.format(extra="", data_dir=str(tmp_path)) + REFUSED + SHOW
    result = run_edited("mmc/annotations/types.py", MESSAGE_ITEM, added="", body=body)
    assert result["exported"] == [{"model_config_name": "claude"}, {"model_config_name": "gpt"}]
    assert result["read"] == [None, None]
    assert "rationale" in result["builder"]
    assert "rationale" in result["rules"]
    assert len(result["import"]) == 1 and "rationale" in result["import"][0]


def test_a_field_added_to_the_actor_metadata_is_built_and_read_back_from_row_data():
    body = """
        import msgspec
        from airflow_mmc_provider.mmc.conversation.document import document_view
        from airflow_mmc_provider.mmc.conversation.types import ActorMetadata, ConversationDocument

        document = {"type": "application/vnd.labelbox.conversational.model-chat-evaluation", "version": 2,
                    "actors": {"u": {"role": "human", "metadata": {"name": "User"}},
                               "m": {"role": "model", "metadata": {"modelConfigName": "gpt",
                                                                    "inferenceParams": "t=0.7"}}},
                    "messages": {"p": {"actorId": "u", "content": [{"type": "text", "content": "hi"}],
                                       "childMessageIds": ["r"]},
                                 "r": {"actorId": "m", "content": [{"type": "text", "content": "yo"}]}},
                    "rootMessageIds": ["p"]}
        typed = msgspec.convert(document, ConversationDocument)
        view = document_view(msgspec.json.encode(typed))
        print(msgspec.json.encode({
            "built": msgspec.to_builtins(typed)["actors"]["m"]["metadata"],
            "read": view.actors["m"].metadata.inference_params,
        }).decode())
    """
    result = run_edited(
        "mmc/conversation/types.py",
        anchor="    model_config_id: str | None = None\n",
        added="    inference_params: str | None = None\n",
        body=body,
    )
    assert result == {"built": {"modelConfigName": "gpt", "inferenceParams": "t=0.7"}, "read": "t=0.7"}
