"""Ontologies: the team's spec, the normalized ontology Labelbox stores, and their differences."""

from airflow_mmc_provider.mmc.ontology.spec import *  # noqa: F403
