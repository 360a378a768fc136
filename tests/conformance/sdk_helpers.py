"""What the conformance tests share: the seed's data row asset, its ontology and a project set up the
way the seed's steps 2-4 set one up.

Everything here goes through the official SDK only, never through the provider's own code, so the
tests stay an independent oracle of the emulator: a format shared by the provider's client and the
emulator cannot drift without these tests noticing.
"""

from __future__ import annotations

import labelbox as lb
import pytest

MMC_ASSET = (
    "https://storage.googleapis.com/labelbox-datasets/conversational_model_evaluation_sample/"
    "offline-model-chat-evaluation.json"
)
SEED_ONTOLOGY_NAME = "MMC ontology"


def options(*values: str) -> list[lb.Option]:
    """The seed's option lists (one `lb.Option(value=...)` per answer), written once."""
    return [lb.Option(value=value) for value in values]


def seed_ontology_builder() -> lb.OntologyBuilder:
    """Step 2 of the seed: its three message tools and three classifications, in its order."""
    return lb.OntologyBuilder(
        tools=[
            lb.Tool(tool=lb.Tool.Type.MESSAGE_SINGLE_SELECTION, name="Single message selection"),
            lb.Tool(tool=lb.Tool.Type.MESSAGE_MULTI_SELECTION, name="Multi message selection"),
            lb.Tool(tool=lb.Tool.Type.MESSAGE_RANKING, name="Message ranking"),
        ],
        classifications=[
            lb.Classification(
                class_type=lb.Classification.Type.RADIO,
                scope=lb.Classification.Scope.GLOBAL,
                name="Choose the best response",
                options=options("Response A", "Response B", "Tie"),
            ),
            lb.Classification(
                class_type=lb.Classification.Type.TEXT, name="Provide a reason for your choice"
            ),
            lb.Classification(
                class_type=lb.Classification.Type.CHECKLIST,
                scope=lb.Classification.Scope.INDEX,
                name="checklist_convo",
                options=options("first_checklist_answer", "second_checklist_answer"),
            ),
        ],
    )


def create_seed_ontology(client: lb.Client, name: str = SEED_ONTOLOGY_NAME) -> lb.Ontology:
    """The seed's ontology created as step 2 creates it: conversational, for model evaluation."""
    return client.create_ontology(
        name,
        seed_ontology_builder().asdict(),
        media_type=lb.MediaType.Conversational,
        ontology_kind=lb.OntologyKind.ModelEvaluation,
    )


def connected_project(client: lb.Client, name: str) -> tuple[lb.Project, lb.Ontology]:
    """Steps 2-3: an offline chat evaluation project connected to a new seed ontology.

    Connecting warns that the default labeling editor is connected (the SDK does; the emulator must
    let it), so the warning is expected here rather than in every test.
    """
    ontology = create_seed_ontology(client)
    project = client.create_offline_model_evaluation_project(name=name)
    with pytest.warns(UserWarning):
        project.connect_ontology(ontology)
    return project, ontology
