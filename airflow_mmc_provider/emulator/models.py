"""Old home of the emulator's state, kept as re-exports while modules still import it from here.

The state now lives per resource in `airflow_mmc_provider.emulator.store`; import from there.
"""

from __future__ import annotations

from airflow_mmc_provider.emulator.store import COMPLETE, FAILED, IN_PROGRESS, Store, Task
from airflow_mmc_provider.emulator.store.imports import AnnotationImport
from airflow_mmc_provider.emulator.store.upserts import (
    DataRowUpdate,
    DataRowWriter,
    FailedRow,
    NewDataRow,
    RowRef,
)

__all__ = [
    "COMPLETE", "FAILED", "IN_PROGRESS", "AnnotationImport", "DataRowUpdate", "DataRowWriter", "FailedRow",
    "NewDataRow", "RowRef", "Store", "Task",
]  # fmt: skip
