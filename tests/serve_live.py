"""A real `kpirules serve` on 127.0.0.1 for the service's tests: uvicorn in a thread, on a free
port, serving a copy of the shipped policies (so that a test may edit them), and a real HTTP client.
Imported by tests/test_serve*.py and tests/test_playground.py."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def copy_tree(tmp: Path) -> Path:
    """policies/, ruleset/ and examples/ copied under `tmp`; the policies folder."""
    for name in ("policies", "ruleset", "examples"):
        shutil.copytree(ROOT / name, tmp / name)
    return tmp / "policies"


class LiveServer:
    def __init__(self, policies: Path, **options):
        uvicorn = pytest.importorskip("uvicorn", reason="the serve extra is not installed (pip install '.[serve]')")
        from kpirules.serve.app import create_app
        self.app = create_app(policies, **options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on",
                                timeout_keep_alive=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
