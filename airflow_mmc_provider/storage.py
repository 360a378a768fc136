"""Reading user files from any object storage Airflow knows (local, S3, GCS through fsspec)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


class JsonLinesError(ValueError):
    """A line of a JSONL input is not valid JSON; names the file and the line."""


def as_storage_path(path: str | os.PathLike[str] | ObjectStoragePath) -> ObjectStoragePath:
    """Accept `s3://...`, `file:///...`, a plain local path or an ObjectStoragePath."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    if isinstance(path, ObjectStoragePath):
        return path
    text = os.fspath(path)
    if "://" not in text:
        text = "file://" + os.path.abspath(text)
    return ObjectStoragePath(text)


def iter_jsonl(path: str | os.PathLike[str] | ObjectStoragePath) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) for each non-blank line, streaming; bad JSON names its line."""
    location = as_storage_path(path)
    decoder = msgspec.json.Decoder()
    with location.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise JsonLinesError(
                    f"{location} line {number}: not valid JSON ({exc}); fix the line"
                ) from None
