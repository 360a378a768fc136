"""`LabelboxCreateProjectOperator`: get-or-create a multimodal chat evaluation project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator, BaseOperatorLink, XCom

from airflow_mmc_provider.operators.base import LabelboxBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_mmc_provider.client import LabelboxClient

PROJECT_URL_KEY = "project_url"


class LabelboxProjectLink(BaseOperatorLink):
    """Opens the project in the Labelbox app (the URL is pushed to XCom when the task runs)."""

    name = "Labelbox project"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(key=PROJECT_URL_KEY, ti_key=ti_key) or ""


class LabelboxCreateProjectOperator(LabelboxBaseOperator):
    """Ensure an offline (or live) multimodal chat evaluation project exists, with its ontology.

    Idempotent by name; returns the project id. An existing project of the same name that is not
    a chat evaluation project, or that already uses another ontology, fails the task instead of
    being changed silently.

    :param project_name: project name (templated).
    :param ontology_id: ontology to connect, typically the create-ontology task's XCom (templated).
    :param live: a live chat evaluation project instead of an offline one.
    :param description: description used when the project is created (templated).
    """

    template_fields: Sequence[str] = ("project_name", "ontology_id", "description", "labelbox_conn_id")
    operator_extra_links = (LabelboxProjectLink(),)

    def __init__(
        self,
        *,
        project_name: str,
        ontology_id: str | None = None,
        live: bool = False,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_name = project_name
        self.ontology_id = ontology_id
        self.live = live
        self.description = description

    def execute(self, context: Context) -> str:
        from airflow_mmc_provider.operators._failures import fail_fast_on

        client = self.client
        with fail_fast_on():
            project, created = client.projects.get_or_create_model_chat_evaluation(
                self.project_name, live=self.live, description=self.description
            )
        self._check_kind(project.editor_task_type, project.id)
        url = f"{client.app_url}/projects/{project.id}"
        context["ti"].xcom_push(key=PROJECT_URL_KEY, value=url)
        self.log.info(
            "%s Labelbox project %r: %s (%s)",
            "Created" if created else "Found",
            project.name,
            project.id,
            url,
        )
        if self.ontology_id:
            self._connect(client, project.id, self.ontology_id)
        return project.id

    def _check_kind(self, editor_task_type: str | None, project_id: str) -> None:
        expected = "MODEL_CHAT_EVALUATION" if self.live else "OFFLINE_MODEL_CHAT_EVALUATION"
        if editor_task_type != expected:
            raise AirflowFailException(
                f"Labelbox project {self.project_name!r} ({project_id}) exists but is a {editor_task_type or 'plain'} "
                f"project, not {expected}; choose another project name"
            )

    def _connect(self, client: LabelboxClient, project_id: str, ontology_id: str) -> None:
        current = client.projects.ontology_id(project_id)
        if current and current != ontology_id:
            raise AirflowFailException(
                f"Labelbox project {self.project_name!r} ({project_id}) already uses ontology {current}, not "
                f"{ontology_id}; use a new project name for a new ontology"
            )
        if client.projects.connect_ontology(project_id, ontology_id):
            self.log.info("Connected ontology %s to project %s", ontology_id, project_id)
