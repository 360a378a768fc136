"""`LabelboxImportTrigger`: wait until every part of an annotation import is FINISHED or FAILED."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.triggers.base import LabelboxPollTrigger, Poll

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient


class LabelboxImportTrigger(LabelboxPollTrigger):
    """Done when all named imports are terminal; failed if any of them FAILED or is gone (an
    import the operator started cannot come back, so waiting for it to the deadline is pointless)."""

    own_fields = ("project_id", "import_names", "import_kind")

    def __init__(self, project_id: str, import_names: list[str], import_kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.import_names = list(import_names)
        self.import_kind = import_kind

    def check(self, client: LabelboxClient) -> Poll:
        states: dict[str, str] = {}
        for name in self.import_names:
            found = client.imports.find(self.project_id, name, self.import_kind)
            states[name] = found.state if found else "MISSING"
        running = [n for n, s in states.items() if s not in ("FINISHED", "FAILED", "MISSING")]
        failed = [n for n, s in states.items() if s in ("FAILED", "MISSING")]
        message = f"imports {states}"
        return Poll(done=not running, succeeded=not failed, message=message, payload={"states": states})
