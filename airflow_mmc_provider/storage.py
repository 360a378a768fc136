"""Deprecated import path, kept for one release: use `airflow_mmc_provider.operators.storage`.

Reading user files through `ObjectStoragePath` is an Airflow concern, so it lives beside the
operators that use it instead of at the package root.
"""

import sys

from airflow_mmc_provider.operators.storage import *  # noqa: F403
from airflow_mmc_provider.operators.storage import JsonLinesError, as_storage_path, atomic_write, iter_jsonl

__all__ = ["JsonLinesError", "as_storage_path", "atomic_write", "iter_jsonl"]

sys.modules[__name__] = sys.modules["airflow_mmc_provider.operators.storage"]
