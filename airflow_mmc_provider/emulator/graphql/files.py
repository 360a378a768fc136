"""File uploads: the multipart `uploadFile`, answered with the URL the file is served at."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator.errors import InvalidInputError
from airflow_mmc_provider.emulator.graphql.context import Resolvers, UploadedPart, request_context


def resolve_upload_file(
    _: Any, info: GraphQLResolveInfo, file: Any, contentLength: int, sign: bool | None = None
) -> dict[str, Any]:
    """Store the part as sent; `contentLength` is not enforced (the SDK computes it loosely)."""
    if not isinstance(file, UploadedPart):
        raise InvalidInputError(
            "uploadFile needs a GraphQL multipart request (parts 'operations', 'map' and the file)"
        )
    context = request_context(info)
    stored = context.store.save_file(
        file.content, filename=file.filename, content_type=file.content_type, netloc=context.netloc
    )
    return {"url": context.file_url(stored.id), "filename": file.filename or stored.id}


RESOLVERS: Resolvers = {"Mutation": {"uploadFile": resolve_upload_file}}
