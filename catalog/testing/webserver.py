"""`catalog serve` as a real process on 127.0.0.1 and a free port, for tests and bench/serve.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServeProcess:
    """`python -m catalog serve` over a catalogue, from start (its port answering) to stop."""

    def __init__(self, *, config: Path | None = None, db: Path | None = None, cwd: Path | None = None) -> None:
        self.args = [sys.executable, "-m", "catalog"]
        if config is not None:
            self.args += ["--config", str(config)]
        if db is not None:
            self.args += ["--db", str(db)]
        self.cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> ServeProcess:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [*self.args, "serve", "--port", str(self.port)],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _out, err = self.process.communicate()
                raise RuntimeError(f"catalog serve exited {self.process.returncode}: {err}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"catalog serve did not answer on port {self.port} within {timeout} s")

    def stop(self) -> str:
        """Stop the server; what it wrote on stderr."""
        if self.process is None:
            return ""
        self.process.terminate()
        try:
            _out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _out, err = self.process.communicate()
        self.process = None
        return err

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
