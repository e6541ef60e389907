"""Summarises bench/integrations.sh's raw output: per integration and
mode, the medians over the rounds of wall time, process CPU, the caller's
CPU and allocations for the bare and the traced call, and their ratios.

    python3 bench/python/integrations_table.py bench/results/autoinstrument/integrations.txt
"""

import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"^(?P<pkg>[\w-]+)/Benchmark\w+/(?P<mode>\w+)/(?P<side>bare|traced)-\d+\s+\d+\s+(?P<rest>.*)$")
METRIC = re.compile(r"([\d.]+) ([\w/-]+)")


def main(path):
    runs = defaultdict(lambda: defaultdict(list))  # (pkg, mode, side) -> metric -> values
    order = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if not m:
                continue
            key = (m["pkg"], m["mode"])
            if key not in order:
                order.append(key)
            for value, unit in METRIC.findall(m["rest"]):
                runs[key + (m["side"],)][unit].append(float(value))

    def med(key, unit):
        v = runs[key].get(unit)
        return statistics.median(v) if v else None

    print("| integration, call | wall bare -> traced (ratio) | per-round ratios | process CPU ratio | caller's-path CPU added | allocs added |")
    print("|---|---|---|---|---|---|")
    for pkg, mode in order:
        b, t = (pkg, mode, "bare"), (pkg, mode, "traced")
        wb, wt = med(b, "ns/op"), med(t, "ns/op")
        rounds = [x / y for x, y in zip(runs[t]["ns/op"], runs[b]["ns/op"])]
        cb, ct = med(b, "cpu-ns/op"), med(t, "cpu-ns/op")
        kb, kt = med(b, "caller-cpu-ns/op"), med(t, "caller-cpu-ns/op")
        ab, at = med(b, "allocs/op"), med(t, "allocs/op")
        cpu = f"{ct / cb:.2f}x" if cb and ct else "-"
        caller = f"{(kt - kb) / 1000:+.0f} us" if kb is not None and kt is not None else "-"
        print(
            f"| {pkg} {mode} | {wb / 1000:.0f} -> {wt / 1000:.0f} us ({wt / wb:.2f}x) "
            f"| {', '.join(f'{r:.2f}' for r in rounds)} | {cpu} | {caller} | {at - ab:+.0f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
