"""Deprecated import path, kept for one release: use `airflow_mmc_provider.operators.storage`.

Reading user files through `ObjectStoragePath` is an Airflow concern, so it lives beside the
operators that use it instead of at the package root. The names are handed on when first used
(a module ``__getattr__``), with a `DeprecationWarning`, so importing the package root never
imports the operators, and no module of the package imports this one.
"""

from __future__ import annotations

import warnings
from typing import Any

# The names are served by `__getattr__` below, which a linter cannot see.
__all__ = ["JsonLinesError", "as_storage_path", "atomic_write", "iter_jsonl"]  # noqa: F822


def __getattr__(name: str) -> Any:
    """`name` from `airflow_mmc_provider.operators.storage`, where it lives now."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"airflow_mmc_provider.storage is deprecated; import {name} from airflow_mmc_provider.operators.storage",
        DeprecationWarning,
        stacklevel=2,
    )
    from airflow_mmc_provider.operators import storage

    return getattr(storage, name)


def __dir__() -> list[str]:
    return sorted(__all__)
