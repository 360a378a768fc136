"""The deterministic uuid of an annotation line, and the line's canonical encoding.

A line without a uuid gets ``uuid5(ANNOTATION_NAMESPACE, canonical)``, where ``canonical`` is the
line without ``uuid`` as compact JSON with keys sorted and null values left out (UTF-8): the data
row, the feature and the content decide it, so a retried import sends the same uuids. Its own
module because both the batch (`ndjson`) and the record reader (`records`) encode lines.
"""

from __future__ import annotations

import hashlib
import uuid as uuid_module
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from airflow_mmc_provider.mmc.annotations.types import AnnotationLine, parse_line

ANNOTATION_NAMESPACE: Final = uuid_module.uuid5(
    uuid_module.NAMESPACE_URL, "https://github.com/airflow-mmc-provider/airflow-mmc-provider/annotations"
)
_NAMESPACE_SHA1 = hashlib.sha1(ANNOTATION_NAMESPACE.bytes, usedforsecurity=False)
encoder: Final = msgspec.json.Encoder()
# what follows a canonical line without its closing brace: its uuid, then the closing brace
UUID_KEY: Final = b',"uuid":"'
CLOSE: Final = b'"}'
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def annotation_uuid(line: AnnotationLine | Mapping[str, Any] | str | bytes) -> str:
    """The deterministic uuid of a line; any ``uuid`` the line has is ignored.

    Raises `LineShapeError` (a `ValueError`) if the line is not shaped like an annotation.
    """
    typed = parse_line(line)
    if typed.uuid is not None:
        typed = msgspec.structs.replace(typed, uuid=None)
    return uuid_hash(encoder.encode(typed))


def canonical_line(typed: AnnotationLine) -> tuple[bytes, str]:
    """The encoded line with its uuid (the deterministic one if it has none), and that uuid.

    The encoding has its keys sorted; ``uuid``, which sorts last, is spliced into the canonical
    encoding it was hashed from, so each line is encoded once.
    """
    if typed.uuid is not None:
        return encoder.encode(typed), typed.uuid
    return stamped(encoder.encode(typed))


def stamped(canonical: bytes) -> tuple[bytes, str]:
    """The canonical encoding of a line without uuid, with its deterministic uuid spliced in
    (``uuid`` sorts last), and that uuid: what every way into a batch ends with, once a line."""
    uuid = uuid_hash(canonical)
    return b"".join((canonical[:-1], UUID_KEY, uuid.encode(), CLOSE)), uuid


def stamped_lines(built: list[AnnotationLine]) -> tuple[list[bytes], list[str]]:
    """`stamped` for lines without uuids, encoded in one call (`Encoder.encode_lines`; compact
    JSON has no raw newline, so the lines split where the encoder joined them).

    The hot end of an import from records, written out: joining the parts is about a tenth
    faster than ``bytes %`` formatting (``benchmarks/annotations.py``).
    """
    lines: list[bytes] = []
    uuids: list[str] = []
    copy, variant, key, close = _NAMESPACE_SHA1.copy, _VARIANT, UUID_KEY, CLOSE
    for canonical in encoder.encode_lines(built).split(b"\n")[:-1]:
        digest = copy()
        digest.update(canonical)
        h = digest.hexdigest()
        uuid = f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:32]}"
        lines.append(b"".join((canonical[:-1], key, uuid.encode(), close)))
        uuids.append(uuid)
    return lines, uuids


def uuid_hash(canonical: bytes) -> str:
    """uuid5 (RFC 4122, 4.3) of `canonical` in `ANNOTATION_NAMESPACE`, without a UUID object.

    The namespace is hashed once (`_NAMESPACE_SHA1`); each line continues a copy of that state.
    """
    digest = _NAMESPACE_SHA1.copy()
    digest.update(canonical)
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


__all__ = [
    "ANNOTATION_NAMESPACE",
    "annotation_uuid",
    "canonical_line",
    "stamped",
    "stamped_lines",
    "uuid_hash",
]
