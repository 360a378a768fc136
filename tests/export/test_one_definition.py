"""A format change is one edit: a field added to the one definition travels from writer to reader.

The emulator's export writer (`emulator.labels.Renderer`) and the provider's export reader both take
their Structs from `mmc.export.wire`, and the conversation builder and every reader of row_data take
theirs from `mmc.conversation.types`. Each test edits its types module's source (one added line, as
a developer would), loads the edited module in a fresh interpreter in place of the original, and
checks that the new field is written by the writer and decoded by the reader, with no other change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import airflow_mmc_provider

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
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_field_added_to_the_export_message_goes_from_the_emulator_writer_to_the_reader():
    body = """
        import msgspec
        from airflow_mmc_provider.emulator.labels import OntologyView, Renderer
        from airflow_mmc_provider.mmc.export import wire
        from airflow_mmc_provider.mmc.export.reader import ExportReader, decode_line

        ranking = {"uuid": "u1", "name": "Rank", "dataRow": {"globalKey": "k"},
                   "messageEvaluationTask": {"format": "message-ranking", "data": {
                       "parentMessageId": "p", "rankedMessages": [
                           {"messageId": "a", "modelConfigName": "m1", "order": 2, "rationale": "wordy"},
                           {"messageId": "b", "modelConfigName": "m2", "order": 1, "rationale": "exact"}]}}}
        annotations = Renderer(OntologyView(None), "label-1", {}).annotations([ranking])
        label = wire.Label(id="label-1", annotations=annotations)
        line = wire.Line(data_row=wire.DataRow(id="row-1", global_key="k"),
                         projects={"proj": wire.Project(name="P", labels=(label,))})
        encoded = wire.encoder.encode(line)
        decoded = decode_line(encoded)
        [tool] = decoded.projects["proj"].labels[0].annotations.objects
        [record] = ExportReader([encoded]).labels()
        print(msgspec.json.encode({
            "written": msgspec.json.decode(encoded)["projects"]["proj"]["labels"][0]["annotations"]
                       ["objects"][0]["ranked_messages"]["ranked_messages"],
            "read": [(m.message_id, m.rationale) for m in tool.ranked_messages.ranked_messages],
            "ranked": [r.model for r in record.rankings[0].ranked],
        }).decode())
    """
    result = run_edited(
        "mmc/export/wire.py",
        anchor="    model_config_id: str | None = None\n",
        added="    rationale: str | None = None\n",
        body=body,
    )
    assert [m["rationale"] for m in result["written"]] == ["exact", "wordy"]  # ranked best first
    assert result["read"] == [["b", "exact"], ["a", "wordy"]]
    assert result["ranked"] == ["m2", "m1"]


def test_without_the_edit_the_field_is_neither_written_nor_read():
    """The control: the edit, not the input, is what carries the field."""
    body = """
        from airflow_mmc_provider.emulator.labels import OntologyView, Renderer
        from airflow_mmc_provider.mmc.export import wire

        item = {"messageId": "a", "modelConfigName": "m1", "order": 1, "rationale": "wordy"}
        ranking = {"uuid": "u1", "messageEvaluationTask": {"format": "message-ranking",
                   "data": {"parentMessageId": "p", "rankedMessages": [item]}}}
        annotations = Renderer(OntologyView(None), "label-1", {}).annotations([ranking])
        print(wire.encoder.encode(annotations.objects[0].ranked_messages).decode())
    """
    result = run_edited(
        "mmc/export/wire.py", anchor="    model_config_id: str | None = None\n", added="", body=body
    )
    assert result == {
        "ranked_messages": [{"message_id": "a", "model_config_name": "m1", "order": 1}],
        "parent_message_id": "p",
    }


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
