"""Reading a row_data v2 document: the model responses an annotation can point at.

Kept also as the module of the old import paths (`mmc.document`, `mmc.conversation.document`): it
re-exports the document's types (`types`) and rules (`checks`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from airflow_mmc_provider.mmc.conversation.checks import (
    check_document,
    check_size,
    document_issues,
    encoded_chars,
    validate_document,
)
from airflow_mmc_provider.mmc.conversation.index import ConversationIndex
from airflow_mmc_provider.mmc.conversation.types import (
    MAX_INLINE_CHARS,
    MMC_TYPE,
    MMC_VERSION,
    Actor,
    ActorMetadata,
    ContentPart,
    ConversationDocument,
    DocumentView,
    FileContent,
    Message,
    ResponseRef,
    TextContent,
)

__all__ = [
    "MAX_INLINE_CHARS",
    "MMC_TYPE",
    "MMC_VERSION",
    "Actor",
    "ActorMetadata",
    "ContentPart",
    "ConversationDocument",
    "FileContent",
    "Message",
    "ResponseRef",
    "TextContent",
    "check_document",
    "check_size",
    "document_issues",
    "document_response_refs",
    "document_view",
    "encoded_chars",
    "to_row_data",
    "validate_document",
]


_view_decoder = msgspec.json.Decoder(DocumentView)


def document_view(row_data: str | bytes) -> DocumentView | None:
    """A stored row_data as a reader sees it, None when it is not a v2 document (text, a URL, ...)."""
    try:
        return _view_decoder.decode(row_data)
    except msgspec.DecodeError:
        return None


def to_row_data(document: ConversationDocument) -> dict[str, Any]:
    """The JSON-ready dict of a document (what the data-row payload carries)."""
    result: dict[str, Any] = msgspec.to_builtins(document)
    return result


# --- reading -------------------------------------------------------------------------------------


def document_response_refs(document: ConversationDocument, key: str = "") -> list[ResponseRef]:
    """Every model response that answers a human message, in breadth-first order from the roots.

    A comparison (one `turn`) is a human message with at least one model child; for documents
    the builder made from records with earlier `history` turns, each answered history turn counts
    as a comparison here too, because a document alone cannot tell them apart.
    """
    index = ConversationIndex.from_row_data(document)
    refs: list[ResponseRef] = []
    for turn, parent in enumerate(index.comparisons()):
        for child in index.responses(parent):
            name = index.models.get(child)
            if name is not None:
                refs.append(ResponseRef(key, turn, name, child, parent))
    return refs
