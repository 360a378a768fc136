"""Annotations of multimodal chat labels: builders, rules and the NDJSON Labelbox imports."""

from airflow_mmc_provider.mmc.annotations.ndjson import *  # noqa: F403
from airflow_mmc_provider.mmc.annotations.ndjson import __all__ as __all__
