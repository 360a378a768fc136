"""Projects: multimodal chat evaluation projects, their ontology, and labelling progress."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_mmc_provider.client.errors import NotFoundError
from airflow_mmc_provider.client.idempotent import create_named, find_or_create
from airflow_mmc_provider.client.lookup import Kind, NamedResource
from airflow_mmc_provider.client.models import Ontology, Project, ProjectOverview
from airflow_mmc_provider.client.ontologies import Ontologies

PROJECT_FIELDS = (
    "autoAuditNumberOfLabels autoAuditPercentage createdAt dataRowCount description editorTaskType "
    "isBenchmarkEnabled isConsensusEnabled lastActivityTime allowedMediaType modelSetupComplete name "
    "setupComplete id updatedAt uploadType"
)
PROJECT = Kind("project", PROJECT_FIELDS)
_VARIABLE_TYPES = {
    "name": "String!",
    "description": "String!",
    "allowedMediaType": "MediaType!",
    "autoAuditPercentage": "Float!",
    "autoAuditNumberOfLabels": "Int!",
    "isBenchmarkEnabled": "Boolean!",
    "isConsensusEnabled": "Boolean!",
    "editorTaskType": "EditorTaskType!",
    "appendToExistingDataset": "Boolean!",
}
_EDITOR = "Editor"


class Projects(NamedResource[Project]):
    """Project calls, shaped as the official SDK sends them."""

    kind = PROJECT

    def _model(self, node: Mapping[str, Any]) -> Project:
        return Project.from_graphql(node)

    def create_model_chat_evaluation(
        self, name: str, *, live: bool = False, description: str | None = None
    ) -> Project:
        """An offline (responses uploaded) or live multimodal chat evaluation project, created
        once: a lost answer is resolved by a look-up (`create_named`).

        Quality settings are Labelbox's defaults for these projects: benchmark and consensus on.
        """
        _check_name(name)
        return create_named(
            self._transport,
            "project",
            name,
            lambda: self.find_by_name(name),
            lambda: self._create(name, live, description),
        )

    def get_or_create_model_chat_evaluation(
        self, name: str, *, live: bool = False, description: str | None = None
    ) -> tuple[Project, bool]:
        """Return (project, created); a lost answer to the create is looked up, not repeated."""
        _check_name(name)
        return find_or_create(
            self._transport,
            "project",
            name,
            lambda: self.find_by_name(name),
            lambda: self._create(name, live, description),
        )

    def _create(self, name: str, live: bool, description: str | None) -> Project:
        """One `createProject`, not repeated by the transport when its outcome is unknown."""
        variables: dict[str, Any] = {
            "name": name,
            "allowedMediaType": "CONVERSATIONAL",
            "autoAuditPercentage": 0,
            "autoAuditNumberOfLabels": 3,
            "isBenchmarkEnabled": True,
            "isConsensusEnabled": True,
            "editorTaskType": "MODEL_CHAT_EVALUATION" if live else "OFFLINE_MODEL_CHAT_EVALUATION",
        }
        if live:
            variables["appendToExistingDataset"] = False
        if description:
            variables["description"] = description
        declared = ", ".join(f"${k}: {_VARIABLE_TYPES[k]}" for k in variables)
        fields = " ".join(f"{k}: ${k}" for k in variables)
        query = f"mutation CreateProjectPyApi({declared}){{createProject(data: {{{fields}}}) {{{PROJECT_FIELDS}}}}}"
        data = self._transport.execute(query, variables, idempotent=False)
        return Project.from_graphql(data["createProject"])

    def ontology_id(self, project_id: str) -> str | None:
        query = "query GetProjectOntologyPyApi($id: ID!){project(where: {id: $id}){ontology{id name}}}"
        project = self._transport.execute(query, {"id": project_id}).get("project") or {}
        ontology = project.get("ontology")
        return ontology["id"] if ontology else None

    def ontology(self, project_id: str) -> Ontology:
        """The ontology attached to the project (with server-assigned feature ids)."""
        ontology_id = self.ontology_id(project_id)
        if not ontology_id:
            raise NotFoundError(
                f"project {project_id!r} has no ontology yet; connect one first", operation="ontology"
            )
        return Ontologies(self._transport).get(ontology_id)

    def connect_ontology(self, project_id: str, ontology_id: str) -> bool:
        """Attach the ontology (and the Editor frontend it needs); False if it was already attached."""
        if self.ontology_id(project_id) == ontology_id:
            return False
        self._ensure_editor_frontend(project_id)
        query = (
            "mutation ConnectOntologyPyApi($projectId: ID!, $ontologyId: ID!){ project(where: {id: $projectId}) "
            "{connectOntology(ontologyId: $ontologyId) {id}}}"
        )
        self._transport.execute(query, {"projectId": project_id, "ontologyId": ontology_id})
        return True

    def _ensure_editor_frontend(self, project_id: str) -> None:
        query = (
            "query GetProjectLabelingFrontendPyApi($id: ID!){project(where: {id: $id})"
            "{labelingFrontend{description iframeUrlPath name id}}}"
        )
        project = self._transport.execute(query, {"id": project_id}).get("project") or {}
        if project.get("labelingFrontend"):
            return
        frontends = self._transport.execute(
            "query GetLabelingFrontendsPyApi($name: String!, $deleted: Boolean!){labelingFrontends(where: "
            "{AND: [{name: $name}, {deleted: $deleted}]} skip: 0 first: 100){description iframeUrlPath name id}}",
            {"name": _EDITOR, "deleted": False},
        ).get("labelingFrontends")
        if not frontends:
            raise NotFoundError(
                "the organisation has no 'Editor' labeling frontend", operation="GetLabelingFrontendsPyApi"
            )
        frontend_id = frontends[0]["id"]
        self._transport.execute(
            "mutation ConnectProjectAndLabelingFrontendPyApi($projectId: ID!, $labelingFrontendId: ID!){updateProject("
            " where: {id: $projectId} data: {labelingFrontend: {connect: {id: $labelingFrontendId}}}) {id}}",
            {"projectId": project_id, "labelingFrontendId": frontend_id},
        )
        self._transport.execute(
            "mutation CreateLabelingFrontendOptionsPyApi($project: ID!, $labelingFrontend: ID!, "
            "$customizationOptions: String!){createLabelingFrontendOptions(data: {project: {connect: {id: $project}} "
            "labelingFrontend: {connect: {id: $labelingFrontend}} customizationOptions: $customizationOptions}) "
            "{customizationOptions id}}",
            {
                "project": project_id,
                "labelingFrontend": frontend_id,
                "customizationOptions": '{"tools": [], "classifications": []}',
            },
        )

    def overview(self, project_id: str, batch_ids: list[str] | None = None) -> ProjectOverview:
        """Workflow state counts for the project, or for some of its batches combined."""
        query = (
            "query ProjectGetOverviewPyApi($projectId: ID!, $batchIds: [String!], "
            "$countInput: DataRowCountQueryInput, $includeIssues: Boolean!) { project(where: { id: $projectId }) { "
            "workstreamStateCounts(batchIds: $batchIds) { state count } "
            "taskQueues { queueType name dataRowCount(input: $countInput) } "
            "issues @include(if: $includeIssues) { totalCount } completedDataRowCount } }"
        )
        count_input = None
        if batch_ids:
            count_input = {
                "searchQuery": {
                    "scope": {"projectId": project_id},
                    "query": [{"ids": batch_ids, "operator": "is", "type": "batch"}],
                }
            }
        variables = {
            "projectId": project_id,
            "batchIds": batch_ids or None,
            "countInput": count_input,
            "includeIssues": not batch_ids,
        }
        project = self._transport.execute(query, variables, experimental=True).get("project") or {}
        counts = {row["state"]: int(row["count"]) for row in project.get("workstreamStateCounts") or []}
        return ProjectOverview(counts=counts)


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise ValueError("A Labelbox project needs a non-blank name")
