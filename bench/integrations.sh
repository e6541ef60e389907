#!/usr/bin/env bash
# Issue 15's per-integration overhead: every autoinstrument benchmark that
# compares a bare with a traced call (BenchmarkCall, BenchmarkAgent,
# BenchmarkFlow, BenchmarkToolCall), each package's test binary built once
# and run in turn for BENCH_ROUNDS rounds, then a table of medians
# (bench/python/integrations_table.py). See BENCHMARKS.md section 6f.
#
#   bench/integrations.sh                       # 3 rounds, 2000 calls a sub-benchmark
#   BENCH_ROUNDS=5 BENCH_CALLS=3000 bench/integrations.sh
#
# Environment: BENCH_ROUNDS (3), BENCH_CALLS (-test.benchtime Nx, 2000),
# BENCH_OUT (raw output file, bench/results/autoinstrument/integrations.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${BENCH_ROUNDS:-3}"
calls="${BENCH_CALLS:-2000}"
out="${BENCH_OUT:-bench/results/autoinstrument/integrations.txt}"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# package (relative to its module) : module directory : benchmark pattern
targets=(
	"./autoinstrument/openai/:.:BenchmarkCall"
	"./autoinstrument/anthropic/:.:BenchmarkCall"
	"./autoinstrument/goopenai/:.:BenchmarkCall"
	"./autoinstrument/genai/:.:BenchmarkCall"
	"./autoinstrument/bedrock/:.:BenchmarkCall"
	"./autoinstrument/eino/:.:BenchmarkAgent"
	"./autoinstrument/mcpgo/:.:BenchmarkToolCall"
	".:autoinstrument/genkit:BenchmarkFlow"
)
for t in "${targets[@]}"; do
	IFS=: read -r pkg dir _ <<<"$t"
	name="$(basename "$(cd "$dir" && go list -f '{{.ImportPath}}' "$pkg")")"
	(cd "$dir" && go test -c -o "$tmp/$name.test" "$pkg")
done

{
	echo "# bench/integrations.sh $(date -u +%FT%TZ) rounds=$rounds calls=$calls commit=$(git rev-parse --short HEAD)"
	echo "# $(go version) nproc=$(nproc) loadavg: $(cat /proc/loadavg)"
	for r in $(seq 1 "$rounds"); do
		for t in "${targets[@]}"; do
			IFS=: read -r pkg dir pattern <<<"$t"
			name="$(basename "$(cd "$dir" && go list -f '{{.ImportPath}}' "$pkg")")"
			echo "# round $r $name"
			(cd "$dir/$pkg" && "$tmp/$name.test" -test.run '^$' -test.bench "^$pattern\$" -test.benchmem -test.benchtime "${calls}x") |
				grep '^Benchmark' | sed "s|^Benchmark|$name/Benchmark|"
		done
	done
	echo "# loadavg at the end: $(cat /proc/loadavg)"
} | tee "$out"
python3 bench/python/integrations_table.py "$out"
