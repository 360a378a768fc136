"""Apache Airflow provider for human evaluation rounds of multimodal chat models on Labelbox.

This module stays import-light: DAG files import operators from their own modules, and the
providers manager only needs `get_provider_info`.
"""

from __future__ import annotations

from airflow_mmc_provider.get_provider_info import get_provider_info

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info"]
