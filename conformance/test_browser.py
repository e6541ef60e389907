"""Real-browser check: a trace written by `go run ./examples/quickstart` is
visible in MLflow's own web UI, rendered by headless Chromium.

Two ways the trace reaches MLflow:
- local store: the quickstart writes ./mlruns with an empty environment, then
  `mlflow server --backend-store-uri ./mlruns` serves it (FileStore);
- server: the quickstart runs with MLFLOW_TRACKING_URI pointing at a real
  sqlite-backed `mlflow server`.

For each, the experiment's Traces page must list the trace (request and
response previews), and the trace view must show every span name. The DOM is
taken with `chromium --dump-dom` after the page's scripts ran; a screenshot of
each page is kept in the test's tmp dir (printed on failure) to look at.

Chromium is installed by scripts/setup-python.sh (Debian package, /usr/bin/chromium);
this test installs nothing. Without it the test fails under
MLFLOWTRACE_REQUIRE_MLFLOW=1 (make test, CI) and is skipped otherwise.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from parity import harness

QUESTION = "I'm flying to Paris tomorrow. What should I pack?"
ANSWER_START = "Expect light rain in Paris"
SPAN_NAMES = ["travel_agent", "plan", "chat_model", "get_weather", "packing_list"]


def chromium_path() -> str:
    for c in (os.environ.get("MLFLOWTRACE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if c and os.path.exists(c):
            return c
    harness.require_or_skip(
        "Chromium not found (/usr/bin/chromium): run scripts/setup-python.sh, which installs "
        "the Debian package chromium, or set MLFLOWTRACE_CHROMIUM"
    )


def chromium(url: str, workdir: Path, *, dump: bool = False, screenshot: Path | None = None,
             budget_ms: int = 20000) -> str:
    """Loads url in headless Chromium; returns the DOM after the scripts ran
    (dump=True) or writes a screenshot."""
    profile = workdir / f"chromium-profile-{harness.free_port()}"
    cmd = [
        chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}", "--window-size=1600,1000",
    ]
    cmd += ["--dump-dom"] if dump else [f"--screenshot={screenshot}"]
    cmd.append(url)
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                             env=harness.clean_env(), cwd=workdir)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if res.returncode != 0:
        pytest.fail(f"chromium exited {res.returncode}:\n{res.stderr[-3000:]}")
    return res.stdout


def visible_text(dom: str) -> str:
    dom = re.sub(r"(?is)<(script|style)\b[^>]*>.*?</\1>", " ", dom)
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    return re.sub(r"\s+", " ", text)


def page_text(url: str, workdir: Path, must_contain: list[str]) -> str:
    """The visible text of url, retried with a longer budget while something
    expected is missing (the UI loads traces asynchronously)."""
    text = ""
    for budget in (15000, 30000, 60000):
        text = visible_text(chromium(url, workdir, dump=True, budget_ms=budget))
        if all(s in text for s in must_contain):
            break
    return text


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    return harness.go_build("examples/quickstart", tmp_path_factory.mktemp("gobin"))


def run_quickstart(binary: Path, workdir: Path, **env: str) -> str:
    res = harness.run([str(binary)], env=harness.clean_env(**env), cwd=workdir)
    m = re.search(r"(?m)^Trace (tr-[0-9a-f]{32})$", res.stdout)
    assert m, f"no trace id in the quickstart's output:\n{res.stdout}"
    return m.group(1)


def has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text) is not None


def check_ui(base_url: str, experiment_id: str, trace_id: str, workdir: Path) -> None:
    list_url = f"{base_url}/#/experiments/{experiment_id}/traces"
    detail_url = (f"{list_url}?selectedEvaluationId={trace_id}&traceId={trace_id}"
                  "&compareRunsMode=TRACES")
    shots = [workdir / "traces-list.png", workdir / "trace-detail.png"]
    where = f"(screenshots: {shots[0]}, {shots[1]})"
    try:
        text = page_text(list_url, workdir, [QUESTION, ANSWER_START])
        assert QUESTION in text, f"request preview not on the traces page:\n{text[:3000]}"
        assert ANSWER_START in text, f"response preview not on the traces page:\n{text[:3000]}"
        # Control: the list does not show span names, the trace view does.
        assert not has_word(text, "packing_list"), "span names already on the list page"

        text = page_text(detail_url, workdir, SPAN_NAMES)
        missing = [n for n in SPAN_NAMES if not has_word(text, n)]
        assert not missing, f"span names {missing} not in the trace view:\n{text[:3000]}"
        assert QUESTION in text, "inputs not shown in the trace view"
    except AssertionError as e:
        raise AssertionError(f"{e}\n{where}") from None
    finally:
        # For people: what the UI looked like (a long budget lets the trace
        # drawer finish its slide-in animation).
        chromium(list_url, workdir, screenshot=shots[0], budget_ms=30000)
        chromium(detail_url, workdir, screenshot=shots[1], budget_ms=30000)


def test_browser_local_store(tmp_path, quickstart):
    chromium_path()
    trace_id = run_quickstart(quickstart, tmp_path)  # empty environment: ./mlruns
    assert (tmp_path / "mlruns" / "0" / "traces" / trace_id).is_dir()
    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        check_ui(server.url, "0", trace_id, tmp_path)


def test_browser_tracking_server(tmp_path, quickstart):
    chromium_path()
    with harness.MlflowServer(tmp_path / "server") as server:
        trace_id = run_quickstart(quickstart, tmp_path, MLFLOW_TRACKING_URI=server.url)
        harness.load_trace(server.url, trace_id)  # complete on the server
        check_ui(server.url, "0", trace_id, tmp_path)


def test_session_in_mlflow_ui(tmp_path):
    """A chat session written by Go (ContextWithTraceOptions: three turns of
    session go-chat-7) is MLflow's session view: every turn's question and
    answer, in order."""
    chromium_path()
    binary = harness.go_build("conformance/cmd/sessiontraces", tmp_path / "gobin")
    with harness.MlflowServer(tmp_path / "server") as server:
        res = harness.run([str(binary)], env=harness.clean_env(MLFLOW_TRACKING_URI=server.url), cwd=tmp_path)
        session = res.stdout.strip().splitlines()[-1]
        url = f"{server.url}/#/experiments/0/chat-sessions/{session}"
        turns = ["Hello there", "Hi! How can I help?", "What is the weather in Lyon?",
                 "Sunny and 21 degrees in Lyon.", "Thanks a lot", "You are welcome."]
        shot = tmp_path / "session.png"
        try:
            text = page_text(url, tmp_path, turns)
            assert f"Session {session}" in text, f"not the session view:\n{text[:3000]}"
            at = [text.find(t) for t in turns]
            assert -1 not in at and at == sorted(at), f"turns missing or out of order {at}:\n{text[:3000]}"
        except AssertionError as e:
            raise AssertionError(f"{e}\n(screenshot: {shot})") from None
        finally:
            chromium(url, tmp_path, screenshot=shot, budget_ms=30000)
