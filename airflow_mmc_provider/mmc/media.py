"""Which files a conversation may show, and how their MIME type is found.

The editor renders a file from its URL and MIME type, so a wrong or missing type shows raters a
broken message instead of failing the upload. The list is deliberately closed: a type outside it
is reported before anything is uploaded, with the list in the fix.
"""

from __future__ import annotations

IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOCUMENT_MIME_TYPES = frozenset({"application/pdf", "text/plain"})
AUDIO_MIME_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/wav",
        "audio/x-wav",
        "audio/ogg",
        "audio/mp4",
        "audio/aac",
        "audio/flac",
        "audio/webm",
    }
)
VIDEO_MIME_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime", "video/ogg", "video/mpeg"})
ALLOWED_MIME_TYPES = IMAGE_MIME_TYPES | DOCUMENT_MIME_TYPES | AUDIO_MIME_TYPES | VIDEO_MIME_TYPES

# A fixed table instead of `mimetypes`, whose answers depend on the host's /etc/mime.types: the
# same record must build the same document on a laptop and on a worker.
EXTENSION_MIME_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "mpeg": "video/mpeg",
}

# Labelbox fetches http(s) URLs and, with IAM delegated access, gs:// URIs; for S3 it needs the
# https form, and the data-row client rejects s3:// too.
URI_SCHEMES = frozenset({"https", "http", "gs"})


def normalize_mime_type(mime_type: str) -> str:
    """Lower-case and without parameters (`Image/JPEG; q=1` -> `image/jpeg`)."""
    return mime_type.partition(";")[0].strip().lower()


def mime_type_from_uri(uri: str) -> str | None:
    """The MIME type implied by the URI's file extension, if the table knows it."""
    path = uri.partition("?")[0].partition("#")[0]
    name = path.rpartition("/")[2]
    if "." not in name:
        return None
    return EXTENSION_MIME_TYPES.get(name.rpartition(".")[2].lower())


def resolve_mime_type(uri: str, mime_type: str | None) -> str | None:
    """The allowed MIME type of a file, or None when it is unknown or not allowed."""
    resolved = normalize_mime_type(mime_type) if mime_type is not None else mime_type_from_uri(uri)
    return resolved if resolved in ALLOWED_MIME_TYPES else None


def uri_problem(uri: str) -> tuple[str, str] | None:
    """Why Labelbox could not fetch this URI and the fix, or None if it looks fetchable.

    Runs for every file of a batch, hence `partition` rather than `urlsplit` (same verdict for
    absolute URLs: a known scheme followed by `://` and a non-empty host).
    """
    scheme, separator, rest = uri.strip().partition("://")
    scheme = scheme.lower()
    if scheme in URI_SCHEMES and separator and rest[:1] not in {"", "/", "?", "#"}:
        return None
    if not uri.strip():
        return "the file URI is empty", "give the file's https:// (or gs://) URL"
    if scheme == "s3":
        return (
            f"{uri!r} is an s3:// URI, which Labelbox does not fetch",
            "use the https form https://<bucket>.s3.<region>.amazonaws.com/<key>",
        )
    return f"{uri!r} is not an absolute URL Labelbox can fetch", "give an absolute https:// (or gs://) URL"


def mime_fix() -> str:
    """The fix text for an unknown or missing MIME type (names every allowed type)."""
    return "give mime_type as one of " + ", ".join(sorted(ALLOWED_MIME_TYPES))
