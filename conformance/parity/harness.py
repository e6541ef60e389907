"""Process helpers shared by test_parity.py and test_browser.py: build and run
Go programs of this module, run MLflow's Python SDK in a subprocess, start a
real `mlflow server` on a free loopback port and stop it.

Everything here uses the interpreter pytest runs under (sys.executable: the
project's .venv with the pinned mlflow), never a system MLflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

MODULE_ROOT = Path(__file__).resolve().parents[2]


def require_or_skip(msg: str) -> None:
    """Fail under MLFLOWTRACE_REQUIRE_MLFLOW=1 (make test, CI), else skip."""
    if os.environ.get("MLFLOWTRACE_REQUIRE_MLFLOW") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def old_python() -> str:
    """The interpreter of the old MLflow (3.3.2): $MLFLOWTRACE_PYTHON_OLD, else
    <module root>/.venv-mlflow33/bin/python (scripts/setup-python.sh)."""
    py = os.environ.get("MLFLOWTRACE_PYTHON_OLD") or str(MODULE_ROOT / ".venv-mlflow33" / "bin" / "python")
    if not os.path.exists(py):
        require_or_skip(f"old MLflow interpreter {py} missing: run scripts/setup-python.sh")
    return py


def clean_env(**extra: str) -> dict:
    """The caller's environment without MLflow / OTel / tracing settings, plus extra."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "_MLFLOW_", "OTEL_", "ENABLE_MLFLOW", "DATABRICKS_"))
    }
    env.update(extra)
    return env


def go_tool() -> str:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.path.exists(go):
        require_or_skip("the go toolchain is not on PATH")
    return go


def go_build(pkg: str, out_dir: Path, module: str = "") -> Path:
    """go build ./<pkg> into out_dir; returns the binary path. module names a
    nested module's directory (e.g. "autoinstrument/genkit"), pkg is then
    relative to it."""
    out = Path(out_dir) / Path(pkg).name
    res = subprocess.run(
        [go_tool(), "build", "-o", str(out), "./" + pkg],
        cwd=MODULE_ROOT / module,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if res.returncode != 0:
        pytest.fail(f"go build ./{pkg} failed:\n{res.stdout}\n{res.stderr}")
    return out


def run(cmd: list[str], env: dict, cwd: Path, timeout: float = 180, input: str | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, input=input)
    if res.returncode != 0:
        pytest.fail(f"{cmd} exited {res.returncode}:\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}")
    return res


def trace_id_from_stdout(stdout: str) -> str:
    """The programs print one JSON line {"trace_id": "tr-..."} last."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and "trace_id" in line:
            return json.loads(line)["trace_id"]
    pytest.fail(f"no trace id in output:\n{stdout}")


def scenario_ids(stdout: str, scenarios=None) -> dict[str, str]:
    """The scenario programs (conformance/cmd/llmtraces, langchaintraces and
    the Python workflows) print one JSON line {"scenario", "trace_id"} per
    scenario; returns scenario -> trace id, checked against scenarios when
    given."""
    out = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and '"scenario"' in line:
            d = json.loads(line)
            out[d["scenario"]] = d["trace_id"]
    if scenarios is not None:
        assert set(out) == set(scenarios), f"scenarios {sorted(out)}\n{stdout}"
    return out


def run_scenarios(cmd: list[str], cwd: Path, scenarios=None, **env: str) -> dict[str, str]:
    """Runs a scenario program with a clean environment plus env and returns
    its scenario -> trace id lines (see scenario_ids)."""
    return scenario_ids(run(cmd, env=clean_env(**env), cwd=cwd).stdout, scenarios)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """A real `mlflow server` bound to 127.0.0.1 on a free port.

    backend is a store URI (sqlite:///..., or a ./mlruns path for the
    FileStore). Artifacts are served by the server (mlflow-artifacts:) from
    workdir/artifacts. env adds variables to the server's clean environment.
    Use as a context manager; the process group it started is terminated on
    exit.
    """

    def __init__(self, workdir: Path, backend: str | None = None, python: str = sys.executable,
                 env: dict[str, str] | None = None):
        self.env = dict(env or {})
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.backend = backend or f"sqlite:///{self.workdir / 'mlflow.db'}"
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "server.log"

    def __enter__(self) -> "MlflowServer":
        cmd = [
            self.python, "-m", "mlflow", "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", self.backend,
            "--artifacts-destination", str(self.workdir / "artifacts"),
            "--workers", "1",
        ]
        # The job runner (a huey consumer per job queue) plays no part in
        # these tests and is five more Python processes per server.
        env = clean_env(MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
                        **self.env)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close()
                pytest.fail(f"mlflow server exited {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        pytest.fail(f"mlflow server did not answer /health within 180s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._log.close()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._close()


def load_trace(tracking_uri: str, trace_id: str, timeout: float = 30) -> dict:
    """MlflowClient(tracking_uri).get_trace(trace_id).to_dict(), retried until
    the trace is complete (a server may still be receiving spans)."""
    import mlflow

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    # The trace artifact (traces.json) of a trace whose spans are not in the
    # server's span table is downloaded from its mlflow-artifacts: location,
    # which MLflow resolves against the *global* tracking URI, not the
    # client's: set both.
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            t = client.get_trace(trace_id)
            if t is not None:
                d = t.to_dict()
                if d["info"].get("state") != "IN_PROGRESS":
                    return d
                last = "trace still IN_PROGRESS"
        except Exception as e:  # noqa: BLE001 - reported below
            last = repr(e)
        if time.monotonic() > deadline:
            pytest.fail(f"get_trace({trace_id}) from {tracking_uri} failed: {last}")
        time.sleep(0.5)
