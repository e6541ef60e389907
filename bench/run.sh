#!/usr/bin/env bash
# Side-by-side benchmarks against a real MLflow server, then the Go
# micro-benchmarks. See BENCHMARKS.md for what is measured.
#
#   bench/run.sh                 # everything (about 30-60 min on 2 cores)
#   BENCH_N=500 bench/run.sh     # fewer traces per client
#   BENCH_SKIP_MICRO=1 bench/run.sh
#   BENCH_PACE=8 BENCH_N=1000 BENCH_SKIP_FAULTS=1 bench/run.sh   # paced at 8 traces/s
#   BENCH_TARGET=databricks BENCH_SKIP_MICRO=1 bench/run.sh      # against the fake Databricks workspace
#   BENCH_TARGET=databricks BENCH_CLOUD=uc ...                   # ... Unity Catalog tables
#   BENCH_SKIP_SPOOL=1 ...                                       # without the durable spool's section
#   BENCH_GO_BASE=ba2f0951 ...                                   # also an earlier commit's Go client, same server, same run
#
# Environment: BENCH_PYTHON (interpreter with mlflow 3.17.2; default the
# project venv .venv, else /tmp/probe-venv), BENCH_N (traces per client,
# 2000), BENCH_PACE (traces/s for both clients; 0 = as fast as possible,
# then drain), BENCH_SKIP_FAULTS, BENCH_ROUNDS (python/go pairs, 1), BENCH_COUNT (go test -count, 6),
# BENCH_OUT (results directory, bench/results), BENCH_TARGET (server, or databricks: the fake
# workspace of internal/databrickstest), BENCH_CLOUD (databricks: AWS_PRESIGNED_URL, GCP_SIGNED_URL,
# AZURE_SAS_URI, AZURE_ADLS_GEN2_SAS_URI or uc), BENCH_BASELINE_N (traces of each client's
# baseline run with MLFLOW_TRACE_SAMPLING_RATIO=0, 400; 0 skips it; server target only).
set -euo pipefail
cd "$(dirname "$0")/.."

py="${BENCH_PYTHON:-}"
if [ -z "$py" ]; then
	for cand in .venv/bin/python /tmp/probe-venv/bin/python; do
		if [ -x "$cand" ] && "$cand" -c 'import mlflow' 2>/dev/null; then py="$cand"; break; fi
	done
fi
if [ -z "$py" ]; then
	bash scripts/setup-python.sh
	py=.venv/bin/python
fi
out="${BENCH_OUT:-bench/results}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== machine"
{ echo "python: $py"; nproc; lscpu | head -20; go version; "$py" -c 'import mlflow; print("mlflow", mlflow.__version__)'; echo "loadavg: $(cat /proc/loadavg)"; } | tee "$out/machine.txt"

echo "== side-by-side: MLflow Python SDK vs Go SDK against one ${BENCH_TARGET:-server}"
go build -o "$tmp/serverbench" ./bench/cmd/serverbench
target_args=()
if [ -n "${BENCH_GO_BASE:-}" ]; then
	git worktree add --detach "$tmp/base" "$BENCH_GO_BASE" >/dev/null
	(cd "$tmp/base" && go build -o "$tmp/serverbench-base" ./bench/cmd/serverbench)
	git worktree remove --force "$tmp/base"
	target_args+=(--go-base-bin "$tmp/serverbench-base")
fi
if [ "${BENCH_TARGET:-server}" = databricks ]; then
	go build -o "$tmp/fakeworkspace" ./internal/databrickstest/cmd/fakeworkspace
	target_args+=(--target databricks --fake-bin "$tmp/fakeworkspace" --cloud "${BENCH_CLOUD:-AWS_PRESIGNED_URL}")
fi
"$py" bench/python/sidebyside.py --go-bin "$tmp/serverbench" "${target_args[@]}" \
	-n "${BENCH_N:-2000}" --rounds "${BENCH_ROUNDS:-1}" --pace "${BENCH_PACE:-0}" \
	--baseline-n "${BENCH_BASELINE_N:-400}" \
	${BENCH_SKIP_FAULTS:+--skip-faults} --out "$out/sidebyside.json" | tee "$out/sidebyside.md"

if [ -z "${BENCH_SKIP_SPOOL:-}" ]; then
	# The durable spool (BENCHMARKS.md, Durable spool): off / sync per batch /
	# sync every second side by side, bytes on disk, replay rate.
	echo "== durable spool (in-process destination; BENCH_SPOOL_SERVER=<url> for a real server)"
	"$tmp/serverbench" -mode spool -n "${BENCH_SPOOL_N:-1000}" -rounds "${BENCH_SPOOL_ROUNDS:-3}" -rate 200 \
		${BENCH_SPOOL_SERVER:+-server "$BENCH_SPOOL_SERVER"} | tee "$out/spool.json"
fi

if [ -z "${BENCH_SKIP_MICRO:-}" ]; then
	echo "== Go micro-benchmarks"
	go test -run '^$' -bench . -benchmem -count "${BENCH_COUNT:-6}" ./tracing/ ./exporter/ ./internal/... | tee "$out/micro.txt" || echo "(go test reported a failure in some package; the benchmark lines above are still valid)"
	# benchstat from the module proxy into a temporary GOBIN (not a module dependency).
	if GOBIN="$tmp" GOFLAGS=-mod=mod go install golang.org/x/perf/cmd/benchstat@latest 2>/dev/null; then
		"$tmp/benchstat" "$out/micro.txt" | tee "$out/micro-benchstat.txt"
	else
		echo "benchstat not available; raw results in $out/micro.txt"
	fi
fi
