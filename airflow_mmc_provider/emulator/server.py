"""Building and running one emulator: state, app, fault layer, uvicorn, signals, the start line.

The process logs exactly one line once it is listening (with the real port, so ``--port 0`` works,
and the file holding this start's admin token, see `admin`), never logs the API key or the token, and exits 0 on SIGINT or SIGTERM after finishing the request and the task in
hand. All state lives in the data directory, so a restart with the same directory carries on.
"""

from __future__ import annotations

import logging
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from airflow_mmc_provider.emulator import batches, exports, imports, upserts
from airflow_mmc_provider.emulator.admin import ADMIN_TOKEN_FILE, write_admin_token
from airflow_mmc_provider.emulator.faults import FaultConfig, FaultInjector, FaultMiddleware
from airflow_mmc_provider.emulator.graphql_api import GraphQLService
from airflow_mmc_provider.emulator.jobs import TaskRunner
from airflow_mmc_provider.emulator.raters import RaterConfig, RaterSimulator
from airflow_mmc_provider.emulator.routes import EmulatorState, create_app
from airflow_mmc_provider.emulator.store import Store

log = logging.getLogger("airflow_mmc_provider.emulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TASK_HANDLERS = {
    upserts.TASK_TYPE: upserts.run_upsert_task,
    batches.TASK_TYPE: batches.run_add_to_batch_task,
    exports.TASK_TYPE: exports.run_export_task,
    imports.TASK_TYPE: imports.run_import_task,
}


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    api_key: str = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    task_delay: float = 0.0
    faults: FaultConfig | None = None
    access_log: bool = False
    export_delay: float = exports.DEFAULT_EXPORT_DELAY
    export_chunk_bytes: int = exports.DEFAULT_CHUNK_BYTES
    raters: RaterConfig | None = None


def build_state(config: ServerConfig) -> EmulatorState:
    store = Store(config.data_dir)
    return EmulatorState(
        store=store,
        runner=TaskRunner(
            store, TASK_HANDLERS, delay=config.task_delay, delays={exports.TASK_TYPE: config.export_delay}
        ),
        faults=FaultInjector(config.faults),
        graphql=GraphQLService(),
        api_key=config.api_key,
        export_chunk_bytes=config.export_chunk_bytes,
        raters=RaterSimulator(store, config.raters),
        admin_token=write_admin_token(config.data_dir),
    )


def build_asgi_app(state: EmulatorState) -> FaultMiddleware:
    """The app as served: the fault layer outermost, so it can drop connections before any work."""
    return FaultMiddleware(create_app(state), state.faults)


def url_host(host: str) -> str:
    """The host as it appears in a URL (IPv6 in brackets, wildcard shown as loopback)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - only for display
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class _Server(uvicorn.Server):
    """uvicorn, plus the one start line with the port actually bound."""

    def __init__(self, config: uvicorn.Config, data_dir: Path) -> None:
        super().__init__(config)
        self._data_dir = data_dir

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.servers and self.servers[0].sockets:
            port = self.servers[0].sockets[0].getsockname()[1]
            url = f"http://{url_host(self.config.host)}:{port}/graphql"
            log.info(
                "Labelbox emulator listening on %s (data dir %s); admin token in %s",
                url,
                self._data_dir,
                self._data_dir / ADMIN_TOKEN_FILE,
            )


def configure_logging(access_log: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO if access_log else logging.WARNING)


def serve(config: ServerConfig) -> int:
    """Run until SIGINT/SIGTERM; return the process exit code."""
    configure_logging(config.access_log)
    state = build_state(config)
    uvicorn_config = uvicorn.Config(
        build_asgi_app(state),
        host=config.host,
        port=config.port,
        lifespan="on",
        log_config=None,
        access_log=config.access_log,
        proxy_headers=False,  # the admin endpoints trust the peer address only
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(uvicorn_config, config.data_dir)
    # uvicorn re-raises the signal that stopped it once it is done; absorb it so we exit with 0.
    previous = {sig: signal.signal(sig, _ignore_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


def _ignore_signal(signum: int, frame: FrameType | None) -> Any:
    return None
