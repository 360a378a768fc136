"""Ontologies: the team's spec, the normalized ontology Labelbox stores, its index, and differences."""

from airflow_mmc_provider.mmc.ontology.diff import *  # noqa: F403
from airflow_mmc_provider.mmc.ontology.index import *  # noqa: F403
from airflow_mmc_provider.mmc.ontology.spec import *  # noqa: F403
