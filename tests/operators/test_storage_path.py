"""`airflow_mmc_provider.storage`, the import path the README keeps for one release."""

from __future__ import annotations

import importlib
import json

import pytest

from airflow_mmc_provider.operators import storage


def test_the_old_path_hands_on_the_same_helpers_with_a_deprecation_warning(tmp_path):
    old = importlib.import_module("airflow_mmc_provider.storage")
    with pytest.warns(
        DeprecationWarning, match=r"import iter_jsonl from airflow_mmc_provider\.operators\.storage"
    ):
        iter_jsonl = old.iter_jsonl
    assert iter_jsonl is storage.iter_jsonl
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({"a": 1}) + "\n\n" + json.dumps({"b": 2}) + "\n")
    assert list(iter_jsonl(str(source))) == [(1, {"a": 1}), (3, {"b": 2})]


def test_every_documented_name_still_imports_from_the_old_path():
    with pytest.warns(DeprecationWarning):
        from airflow_mmc_provider.storage import JsonLinesError, as_storage_path, atomic_write

    assert (JsonLinesError, as_storage_path, atomic_write) == (
        storage.JsonLinesError,
        storage.as_storage_path,
        storage.atomic_write,
    )


def test_a_name_the_old_path_never_had_is_an_attribute_error():
    old = importlib.import_module("airflow_mmc_provider.storage")
    with pytest.raises(AttributeError, match="has no attribute 'read_everything'"):
        old.read_everything  # noqa: B018
