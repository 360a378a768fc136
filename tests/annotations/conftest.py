"""Fixtures of the annotation tests: an MMC ontology (with nesting three deep), conversations built
by the conversation builder, their row_data documents, and Labelbox's own multi-turn sample."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_mmc_provider.mmc.conversation import build_row_data, global_key_for, parse_record
from airflow_mmc_provider.mmc.ontology import build_ontology

from .scenario import ONTOLOGY_SPEC, RECORDS, RESTAURANT_KEY, restaurant_row_data


@pytest.fixture(scope="session")
def ontology() -> dict[str, Any]:
    """The normalized ontology (as `build_ontology` and the SDK's `OntologyBuilder` write it)."""
    return build_ontology(ONTOLOGY_SPEC)


@pytest.fixture(scope="session")
def _documents() -> dict[str, Any]:
    documents = {global_key_for(r["key"]): build_row_data(parse_record(r)) for r in RECORDS}
    documents[RESTAURANT_KEY] = restaurant_row_data()
    return documents


@pytest.fixture
def documents(_documents: dict[str, Any]) -> dict[str, Any]:
    """Data row key -> row_data: the records of `scenario.RECORDS` and Labelbox's restaurant sample.

    A fresh copy per test, so a test may break a document.
    """
    return copy.deepcopy(_documents)
