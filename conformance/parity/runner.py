"""The Python twin of conformance/internal/scenario, for the workflow scripts
(llm_workflow.py, langchain_workflow.py, gemini_workflow.py): runs the
scenarios named on the command line (all when none), each one call and one
trace, then prints one JSON line {"scenario": ..., "trace_id": ...} per
scenario once every trace is written (harness.scenario_ids reads them).
"""

from __future__ import annotations

import json
import sys
from typing import Callable

import mlflow


def run_scenarios(calls: dict[str, Callable[[], object]]) -> None:
    want = set(sys.argv[1:])
    lines = []
    for name, call in calls.items():
        if want and name not in want:
            continue
        call()
        lines.append({"scenario": name, "trace_id": mlflow.get_last_active_trace_id()})
    mlflow.flush_trace_async_logging()
    for line in lines:
        print(json.dumps(line))
