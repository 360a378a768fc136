"""Who may call the `/_emulator/*` admin endpoints, and how their bodies are read.

The admin endpoints can wipe every object (`reset`) or drop every connection (`faults`), so a
web page open in a local browser must not reach them: a cross-site ``text/plain`` POST, or a
foreign ``Host`` as in DNS rebinding, was answered 200. Each admin request must now

* come from a loopback address (403; proxy headers are not trusted),
* name a loopback host in ``Host``: ``localhost``, ``127.0.0.1``, ``[::1]`` with any port (403),
* carry no ``Origin`` header, or the emulator's own (``http://`` + its ``Host``) (403),
* carry ``Authorization: Bearer TOKEN`` with the per-server admin token or the API key (401),
* when it is a POST, declare ``Content-Type: application/json`` (415), with a body of at most
  `MAX_BODY_BYTES` (413).

The admin token is new at every start, written to ``<data dir>/admin-token`` (mode 0600, readable
by its owner only); the start line names that file, never the token. `testing.EmulatorProcess`
reads it and sends it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - the file's name, not a token
MAX_BODY_BYTES = 8 * 1024 * 1024


class AdminBodyError(ValueError):
    """The admin request's body is too large or not JSON (answered 400/413 naming which)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def write_admin_token(data_dir: Path) -> str:
    """A new random token in ``<data_dir>/admin-token``, readable by its owner only.

    Written through a descriptor opened without following links and set to 0600 before the
    token goes in, so a file that existed with wider permissions (or a link planted in its place)
    never holds the new token readable by others.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path = data_dir / ADMIN_TOKEN_FILE
    if path.is_symlink():
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, token.encode())
    finally:
        os.close(descriptor)
    return token


def refusal(request: Request, keys: Sequence[str]) -> Response | None:
    """None when `request` may use an admin endpoint; else the answer that says why not.

    `keys` are the secrets that authorise it (the admin token, the API key).
    """
    for check in (_peer_problem, _host_problem, _origin_problem):
        problem = check(request)
        if problem is not None:
            return _refused(403, problem)
    if not _authorised(request, keys):
        return _refused(
            401,
            "The emulator admin endpoints need 'Authorization: Bearer <token>' with the admin token "
            "(the file named in the emulator's start line) or the API key",
        )
    if request.method == "POST" and _media_type(request) != "application/json":
        return _refused(415, "POST to the emulator admin endpoints needs 'Content-Type: application/json'")
    return None


async def read_json(request: Request) -> Any:
    """The request body as JSON (an empty body is null); `AdminBodyError` if too large or not JSON."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise AdminBodyError(f"the body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        return json.loads(bytes(body) or b"null")
    except ValueError as exc:
        raise AdminBodyError(f"the body is not valid JSON ({exc})") from None


def _refused(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


def _peer_problem(request: Request) -> str | None:
    host = request.client.host if request.client else ""
    if _is_loopback(host):
        return None
    return "The emulator admin endpoints only answer loopback clients"


def _host_problem(request: Request) -> str | None:
    host = request.headers.get("host", "")
    if _is_loopback(_hostname(host)):
        return None
    return (
        f"The emulator admin endpoints only answer requests for a loopback Host (localhost, 127.0.0.1, "
        f"[::1]), not {host[:100]!r}"
    )


def _origin_problem(request: Request) -> str | None:
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is None or origin == own:
        return None
    return f"The emulator admin endpoints refuse requests from another origin ({origin[:100]!r}, not {own!r})"


def _authorised(request: Request, keys: Sequence[str]) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    sent = token.strip().encode()
    matches = [hmac.compare_digest(sent, key.encode()) for key in keys if key]
    return scheme.lower() == "bearer" and any(matches)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _hostname(host: str) -> str:
    """`localhost:8765` -> `localhost`, `[::1]:8765` -> `::1`."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
