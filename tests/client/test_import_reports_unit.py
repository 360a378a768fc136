"""Reading what Labelbox made of an import (`client.import_reports`), from its files, without a server."""

from __future__ import annotations

import json

from airflow_mmc_provider.client.import_reports import input_change, read_outcome
from airflow_mmc_provider.client.models import AnnotationImport

RANKING = {
    "uuid": "u-1",
    "name": "Rank",
    "dataRow": {"globalKey": "k-1"},
    "messageEvaluationTask": {"format": "message-ranking"},
}
RADIO = {"uuid": "u-2", "name": "Difficulty", "dataRow": {"globalKey": "k-2"}, "answer": {"name": "easy"}}


class Files:
    """An import's files by URL, read the way `Imports.read_report` reads them."""

    def __init__(self, files: dict[str, list[dict]], inputs: set[str] | None = None) -> None:
        self.files = files
        self.inputs = inputs

    def read_report(self, url):
        yield from self.files.get(url or "", [])

    def input_uuids(self, found):
        return self.inputs


def imported(name: str = "gt") -> AnnotationImport:
    return AnnotationImport("i1", name, "FINISHED", "100%", None, "status", "inputs")


def test_statuses_are_joined_to_the_lines_sent_and_the_rejected_ones_explained():
    files = Files(
        {
            "inputs": [RANKING, RADIO],
            "status": [
                {"uuid": "u-1", "status": "SUCCESS"},
                {
                    "uuid": "u-2",
                    "status": "FAILURE",
                    "dataRow": {"id": "row-2"},
                    "errors": [{"message": "no"}],
                },
            ],
        }
    )
    outcome = read_outcome(files, [imported(), imported("gt-part-0002")])
    assert outcome.accepted == 2 and dict(outcome.accepted_by_kind) == {"message-ranking": 2}
    assert outcome.failures == ["annotation u-2 (Difficulty, radio (global)) on data row k-2: no"] * 2


def test_a_retry_with_other_annotations_is_named_and_the_same_input_is_not():
    body = "\n".join(json.dumps(line) for line in (RANKING, RADIO)).encode()
    assert input_change(Files({}, {"u-1", "u-2"}), imported(), body, "p1") is None
    assert input_change(Files({}, None), imported(), body, "p1") is None  # nothing to compare with
    text = input_change(Files({}, {"u-1", "u-3"}), imported(), body, "p1")
    assert text is not None and "'gt' already exists in project p1" in text
    assert "1 of this input's 2 are not in it, 1 of its 2 are not in this input" in text
