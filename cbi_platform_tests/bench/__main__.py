"""`make bench`: performance as ratios against baselines measured in the same run.

Each benchmark prints one line and the whole set is saved to data/bench/<timestamp>.json.
Absolute seconds vary by machine; the ratios are what to compare across commits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cbi_platform.lib.settings import PROJECT_ROOT, Settings

BENCHES = {}


def bench(name):
    def register(fn):
        BENCHES[name] = fn
        return fn
    return register


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def python_seconds(code: str, runs: int = 5) -> float:
    return best_of(runs, lambda: subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_ROOT,
                                                capture_output=True))


@bench("definitions_load")
def definitions_load() -> dict:
    """Loading the code location vs importing dagster alone (goal <= 2x)."""
    baseline = python_seconds("import dagster")
    ours = python_seconds("import cbi_platform.definitions as d; d.defs.resolve_asset_graph()")
    return {"seconds": ours, "baseline_import_dagster_seconds": baseline, "ratio": ours / baseline, "goal": "<= 2.0"}


@bench("demo_pipeline")
def demo_pipeline() -> dict:
    """`make demo`'s pipeline after install: fresh warehouse and instance, full sample history."""
    import dagster as dg

    from cbi_platform import demo

    with tempfile.TemporaryDirectory(prefix="cbi_bench_demo_") as tmp:
        settings = Settings.from_env().with_overrides(data_dir=Path(tmp), warehouse_path=str(Path(tmp) / "cbi.duckdb"),
                                                      source_mode="sample")
        t0 = time.perf_counter()
        timings, _ = demo.run(settings, dg.DagsterInstance.ephemeral())
        total = time.perf_counter() - t0
    return {"seconds": total, "stages": timings, "note": "ephemeral instance: the persistent SQLite instance of "
            "`make demo` adds about 13 ms per partition event"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(BENCHES)}")
    args = parser.parse_args(argv)
    results = {}
    for name in args.names or list(BENCHES):
        outcome = BENCHES[name]()
        results[name] = outcome
        ratio = f" ratio {outcome['ratio']:.2f} (goal {outcome['goal']})" if "ratio" in outcome else ""
        print(f"{name:<28} {outcome['seconds']:9.2f} s{ratio}", flush=True)
    out_dir = Settings.from_env().data_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
