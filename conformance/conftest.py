"""Shared fixtures of the conformance suite (run by `make test` with the
project's .venv: mlflow 3.17.2 + pytest).

The suite checks what mlflowtrace-go writes against the real MLflow: Go
programs under conformance/cmd/ produce traces, MLflow's own client and
server read them back.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

# MLflow >= 3.13 refuses the file store unless this is set; set it before
# anything imports mlflow.
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

MODULE_ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFORMANCE_DIR = pathlib.Path(__file__).resolve().parent

if str(CONFORMANCE_DIR) not in sys.path:
    sys.path.insert(0, str(CONFORMANCE_DIR))


def go_build(pkg: str, out_dir: pathlib.Path) -> pathlib.Path:
    """Builds the Go main package pkg (a path relative to the module root)."""
    out = pathlib.Path(out_dir) / pathlib.Path(pkg).name
    res = subprocess.run(
        ["go", "build", "-o", str(out), "./" + pkg],
        cwd=MODULE_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if res.returncode != 0:
        pytest.fail(f"go build ./{pkg} failed:\n{res.stderr}")
    return out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServerProcess:
    """`python -m mlflow server` on a free loopback port, stopped on exit."""

    def __init__(self, args: list[str], cwd: pathlib.Path, log_path: pathlib.Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "w")
        self._log_path = log_path
        # No job runner: a huey consumer per job queue, five more processes
        # per server, for jobs these tests never start.
        env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1", *args],
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        pytest.fail(f"mlflow server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return pathlib.Path(self._log_path).read_text()[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=20)
        self._log.close()

    def __enter__(self):
        self.wait_ready()
        return self

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture(scope="session")
def gobin(tmp_path_factory) -> pathlib.Path:
    """A temp directory for Go binaries built by the suite."""
    return tmp_path_factory.mktemp("gobin")


@pytest.fixture(scope="session")
def writestore(gobin) -> pathlib.Path:
    """conformance/cmd/writestore built once per session."""
    return go_build("conformance/cmd/writestore", gobin)


@pytest.fixture(scope="session")
def llm_fake(tmp_path_factory):
    """The fake OpenAI / Anthropic APIs (internal/llmtest/cmd/fakellm), one
    process shared by the session's tests: each reset()s it before use."""
    from parity import fakellm

    with fakellm.FakeLLM(fakellm.build(tmp_path_factory.mktemp("fakellm"))) as f:
        yield f


@pytest.fixture(scope="session")
def parity_server(tmp_path_factory):
    """A real `mlflow server` (SQLite store) shared by the parity tests; traces
    are read back by id, so tests do not see each other's."""
    from parity import harness

    with harness.MlflowServer(tmp_path_factory.mktemp("parity-server")) as s:
        yield s
