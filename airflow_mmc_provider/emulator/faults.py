"""Fault injection for reliability tests: rate limits, 5xx, dropped connections, latency, truncation.

Configured at start (``--faults JSON``) or at runtime (``POST /_emulator/faults``), in two ways that
can be combined; the deterministic sequence is used up first:

* ``"sequence": ["429", "503", "drop", "latency:0.2", "delay_after:2", "none", ...]`` -- the next matching requests
  get these faults in order (``none`` lets one through, to aim at the Nth request);
* rates with a seed -- ``{"rate_limit": 0.2, "retry_after": 0.1, "server_error": 0.1,
  "server_error_status": 503, "drop": 0.05, "drop_after": 0.0, "latency": 0.05,
  "latency_seconds": 0.2, "truncate": 0.0, "delay_after": 0.0, "seed": 7}`` -- one draw per
  matching request (``delay_after`` holds its answer ``latency_seconds``).

``paths`` (path prefixes) and ``operations`` (GraphQL operation or field names, matched as whole
words in the request body) narrow which requests match; by default every request except the
``/_emulator`` admin endpoints does. ``drop`` closes the connection without a byte of response;
``drop_after`` performs the request first and then drops the answer, to test that clients do not
repeat a mutation blindly; ``truncate`` sends part of a response body and then drops;
``delay_after:S`` performs the request and holds its answer S seconds (past a client's read
timeout, the answer is lost after the server acted). These three act on any operation.

Bounds (400 naming the setting): `MAX_SEQUENCE` faults in a sequence, `MAX_FILTERS` paths or
operations, Retry-After up to `MAX_RETRY_AFTER` seconds, latency up to `MAX_LATENCY` seconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from airflow_mmc_provider.emulator import bounds

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/_emulator"
MAX_SEQUENCE = 10_000
MAX_FILTERS = 100
MAX_RETRY_AFTER = 3600.0
MAX_LATENCY = 600.0
# New kinds go last: a seeded configuration of the earlier ones keeps drawing the same faults.
_RATE_KEYS = ("rate_limit", "server_error", "drop", "drop_after", "latency", "truncate", "delay_after")
_SIMPLE_KINDS = ("drop", "drop_after", "none")
_PEEK_BYTES = 65536


@dataclass(frozen=True)
class Fault:
    """One injected behaviour: `kind` is 429, a 5xx status, drop, drop_after, latency, truncate or
    delay_after."""

    kind: str
    value: float = 0.0

    @classmethod
    def parse(cls, text: Any) -> Fault:
        """`429`, `429:0.5` (Retry-After), `500`..`599`, `drop`, `drop_after`, `latency:S`,
        `delay_after:S`, `truncate[:F]`, `none`."""
        if not isinstance(text, (str, int)):
            raise ValueError(f"a fault must be a string such as '503' or 'drop', got {text!r}")
        kind, _, argument = str(text).strip().lower().partition(":")
        try:
            value = float(argument) if argument else None
        except ValueError:
            raise ValueError(f"bad argument in fault {text!r}") from None
        if kind in _SIMPLE_KINDS and value is None:
            return cls(kind)
        if kind == "429":
            retry_after = 1.0 if value is None else max(0.0, value)  # a negative hint means "now"
            return cls(kind, bounds.bounded(retry_after, "429 Retry-After", 0, MAX_RETRY_AFTER))
        if kind.isdigit() and 500 <= int(kind) <= 599 and value is None:
            return cls(kind)
        if kind in ("latency", "delay_after") and value is not None:
            return cls(kind, bounds.bounded(value, "latency seconds", 0, MAX_LATENCY))
        if kind == "truncate" and (value is None or 0 <= value < 1):
            return cls(kind, 0.5 if value is None else value)
        raise ValueError(
            f"unknown fault {text!r}; use 429[:retry_after], 500-599, drop, drop_after, latency:SECONDS, "
            "delay_after:SECONDS, truncate[:FRACTION] or none"
        )

    def label(self) -> str:
        valued = ("429", "latency", "truncate", "delay_after")
        return f"{self.kind}:{self.value:g}" if self.kind in valued else self.kind


@dataclass(frozen=True)
class FaultConfig:
    """A validated fault configuration (the JSON accepted by `--faults` and the admin endpoint)."""

    sequence: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    rate_limit: float = 0.0
    retry_after: float = 1.0
    server_error: float = 0.0
    server_error_status: int = 503
    drop: float = 0.0
    drop_after: float = 0.0
    latency: float = 0.0
    latency_seconds: float = 0.2
    truncate: float = 0.0
    delay_after: float = 0.0
    seed: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> FaultConfig:
        """Validate and build; raise ValueError naming the bad key and what is allowed."""
        if not isinstance(data, Mapping):
            raise ValueError("the fault configuration must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown}; allowed: {sorted(known)}")
        config = cls(
            sequence=tuple(Fault.parse(item).label() for item in _list_of(data, "sequence", MAX_SEQUENCE)),
            paths=tuple(str(p) for p in _list_of(data, "paths", MAX_FILTERS)),
            operations=tuple(str(o) for o in _list_of(data, "operations", MAX_FILTERS)),
            **{
                key: _number(data, key)
                for key in (*_RATE_KEYS, "retry_after", "latency_seconds")
                if key in data
            },
            server_error_status=int(_number(data, "server_error_status"))
            if "server_error_status" in data
            else 503,
            seed=None if data.get("seed") is None else bounds.seed(data["seed"]),
        )
        config._check()
        return config

    def _check(self) -> None:
        rates = [getattr(self, key) for key in _RATE_KEYS]
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError(f"rates {list(_RATE_KEYS)} must each be in [0, 1] and add up to at most 1")
        if not 500 <= self.server_error_status <= 599:
            raise ValueError("server_error_status must be a 5xx status")
        bounds.bounded(self.retry_after, "retry_after", 0, MAX_RETRY_AFTER)
        bounds.bounded(self.latency_seconds, "latency_seconds", 0, MAX_LATENCY)

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def draw(self, rng: random.Random) -> Fault | None:
        """One probabilistic draw: at most one fault, chosen by cumulative rate."""
        point, cumulative = rng.random(), 0.0
        for key in _RATE_KEYS:
            cumulative += getattr(self, key)
            if point < cumulative:
                return self._rate_fault(key)
        return None

    def _rate_fault(self, key: str) -> Fault:
        if key == "rate_limit":
            return Fault("429", self.retry_after)
        if key == "server_error":
            return Fault(str(self.server_error_status))
        if key in ("latency", "delay_after"):
            return Fault(key, self.latency_seconds)
        return Fault(key, 0.5 if key == "truncate" else 0.0)


def _list_of(data: Mapping[str, Any], key: str, limit: int) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    bounds.at_most(value, key, limit)
    return value


def _number(data: Mapping[str, Any], key: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)


class FaultInjector:
    """The live configuration, the unconsumed part of its sequence, and what was injected."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config: FaultConfig | None = None
        self._queue: deque[Fault] = deque()
        self._rng = random.Random()
        self._counts: Counter[str] = Counter()
        self._seen = 0
        self.configure(config)

    def configure(self, config: FaultConfig | None) -> None:
        """Replace the configuration and restart its sequence, random stream and counters."""
        with self._lock:
            self.config = config
            self._queue = deque(Fault.parse(item) for item in (config.sequence if config else ()))
            self._rng = random.Random(config.seed if config else None)
            self._counts = Counter()
            self._seen = 0

    def clear(self) -> None:
        """Stop injecting; the counters of the last configuration stay readable."""
        with self._lock:
            self.config = None
            self._queue.clear()

    @property
    def active(self) -> bool:
        return self.config is not None

    def needs_body(self) -> bool:
        return bool(self.config and self.config.operations)

    def choose(self, path: str, body_peek: bytes = b"") -> Fault | None:
        """The fault for this request, if it matches the filters; counts what it injects."""
        with self._lock:
            config = self.config
            if config is None or not _matches(config, path, body_peek):
                return None
            self._seen += 1
            fault = self._queue.popleft() if self._queue else config.draw(self._rng)
            if fault is None or fault.kind == "none":
                return None
            self._counts[fault.kind] += 1
            return fault

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "active": self.config is not None,
                "config": self.config.to_json() if self.config else None,
                "injected": sum(self._counts.values()),
                "by_kind": dict(self._counts),
                "matched_requests": self._seen,
                "remaining_sequence": [fault.label() for fault in self._queue],
            }


def _matches(config: FaultConfig, path: str, body_peek: bytes) -> bool:
    if config.paths and not any(path.startswith(prefix) for prefix in config.paths):
        return False
    if config.operations:
        text = body_peek.decode("latin-1")
        return any(re.search(rf"\b{re.escape(name)}\b", text) for name in config.operations)
    return True


# --- the ASGI middleware -------------------------------------------------------------------------


class FaultMiddleware:
    """Outermost ASGI layer: decides per request whether and how to misbehave."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or not self.injector.active:
            await self.app(scope, receive, send)
            return
        peek = b""
        if self.injector.needs_body():
            body = await _read_body(receive)
            receive, peek = _replay(body), body[:_PEEK_BYTES]
        fault = self.injector.choose(scope["path"], peek)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "latency":
            await asyncio.sleep(fault.value)
            await self.app(scope, receive, send)
        elif fault.kind == "429":
            await _send_json(send, 429, _rate_limited_body(), [(b"retry-after", _seconds(fault.value))])
        elif fault.kind.isdigit():
            await _send_json(send, int(fault.kind), _server_error_body(int(fault.kind)), [])
        elif fault.kind == "drop":
            await _drop(send)
        elif fault.kind == "drop_after":
            await self.app(scope, receive, _discard)
            await _drop(send)
        elif fault.kind == "delay_after":
            await self.app(scope, receive, _delayed(send, fault.value))
        else:
            await self.app(scope, receive, _truncating(send, fault.value))


def _rate_limited_body() -> dict[str, Any]:
    return {"message": "You have exceeded the API rate limit (injected by the Labelbox emulator)"}


def _server_error_body(status: int) -> dict[str, Any]:
    message = f"{status} {HTTPStatus(status).phrase} (injected by the Labelbox emulator)"
    return {
        "message": message,
        "errors": [
            {
                "message": message,
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "exception": {"status": status}},
            }
        ],
    }


def _seconds(value: float) -> bytes:
    return (str(int(value)) if value == int(value) else f"{value:g}").encode()


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _discard(message: Message) -> None:
    return None


async def _drop(send: Send) -> None:
    """Close the TCP connection without writing a response byte.

    ASGI has no "abort" message, so this reaches the server's transport through the bound `send`
    of uvicorn's request cycle. Under a server without one (an in-process test client) the
    exception below is the closest equivalent: the client gets no response either.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("connection dropped by fault injection")
    transport.abort()
    for _ in range(10):  # let connection_lost mark the cycle disconnected: no 500 gets written
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)


def _delayed(send: Send, seconds: float) -> Send:
    """A `send` that holds the answer `seconds` once the application has acted and starts it."""
    state = {"waited": False}

    async def delayed(message: Message) -> None:
        if not state["waited"]:
            state["waited"] = True
            await asyncio.sleep(seconds)
        await send(message)

    return delayed


def _truncating(send: Send, fraction: float) -> Send:
    """A `send` that forwards the start and `fraction` of the body, then drops the connection."""
    state = {"limit": -1, "sent": 0, "done": False}

    async def truncated(message: Message) -> None:
        if state["done"]:
            return
        if message["type"] == "http.response.start":
            length = dict(message.get("headers", [])).get(b"content-length")
            state["limit"] = int(int(length) * fraction) if length else -1
            await send(message)
            return
        body = message.get("body", b"")
        limit = state["limit"] if state["limit"] >= 0 else int(len(body) * fraction)
        room = limit - state["sent"]
        if len(body) < room and message.get("more_body"):
            state["sent"] += len(body)
            await send(message)
            return
        state["done"] = True
        if room > 0:
            await send({"type": "http.response.body", "body": body[:room], "more_body": True})
        await _drop(send)

    return truncated
