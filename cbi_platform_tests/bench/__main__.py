"""`make bench`: performance as ratios against baselines measured in the same run.

Each benchmark prints one line and the whole set is saved to data/bench/<timestamp>.json.
Absolute seconds vary by machine; the ratios are what to compare across commits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cbi_platform.lib.settings import PROJECT_ROOT, Settings

BENCHES = {}
ON_REQUEST = set()  # benches of hours, run only when named


def bench(name, on_request: bool = False):
    def register(fn):
        BENCHES[name] = fn
        if on_request:
            ON_REQUEST.add(name)
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


def _demo_env(base: Path, start: str, history_start: str | None = None) -> dict[str, str]:
    """`make demo`'s environment on a fresh data dir and SQLite instance under `base`."""
    return {**os.environ, "CBI_DATA_DIR": str(base), "CBI_WAREHOUSE": str(base / "cbi.duckdb"), "CBI_SOURCE_MODE": "sample",
            "DAGSTER_HOME": str(base / "dagster_home"), "CBI_START_DATE": start,
            "CBI_HISTORY_START": history_start or Settings.from_env().history_start.isoformat()}


def _timed_demo(env: dict[str, str], *args: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of `python -m cbi_platform.demo`, and its stages from its `timings (s):` line."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cbi_platform.demo", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"cbi_platform.demo {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    seconds = time.perf_counter() - t0
    line = next(line for line in done.stdout.splitlines() if line.startswith("timings (s): "))
    stages = {name: float(value) for name, value in (part.rsplit(" ", 1) for part in line[len("timings (s): "):].split(", "))}
    return seconds, stages


@bench("demo_pipeline")
def demo_pipeline() -> dict:
    """`make demo` after install, as a user runs it (its own process, the persistent SQLite
    instance, partitions from January 1, the first carrying the history; goal <= 300 s), then
    the daily refresh: `make demo` again, which re-ingests the latest partition of every source
    and rebuilds features, forecasts, risk and the report, keeping the unchanged models (goal <= 60 s)."""
    with tempfile.TemporaryDirectory(prefix="cbi_bench_demo_") as tmp:
        env = _demo_env(Path(tmp), f"{dt.date.today().year}-01-01")
        first, stages = _timed_demo(env)
        refresh, refresh_stages = _timed_demo(env)
    print(f"{'daily_refresh':<28} {refresh:9.2f} s (goal <= 60 s)")
    return {"seconds": first, "goal": "<= 300 s", "stages": stages, "daily_refresh_seconds": refresh,
            "daily_refresh_goal": "<= 60 s", "daily_refresh_stages": refresh_stages}


@bench("backfill")
def backfill() -> dict:
    """`make backfill` (every raw asset, a partition per day, week or month, its source's cadence,
    from CBI_BENCH_BACKFILL_START, default 2010-06-06, to today; hourly bars their last 60 days) through Dagster on the local
    SQLite instance and on the deployed config (deploy/dagster.yaml on a local PostgreSQL 15, with
    docker-compose.yml's Dagster environment), against the same windows ingested by lib.ingest
    alone in this process: Dagster's cost per materialised partition of an asset (goal <= 2 ms)
    and each total (goal <= 200 s)."""
    from cbi_platform import definitions, demo  # definitions declares every source's assets
    from cbi_platform.defs.ingest.common import DECLARED
    from cbi_platform.lib import warehouse
    from cbi_platform.lib.ingest import ingest
    from cbi_platform.lib.sources import databento
    from cbi_platform.lib.window import Window
    from cbi_platform_tests.processes import deploy_instance_home, postgres_server

    start = dt.date.fromisoformat(os.environ.get("CBI_BENCH_BACKFILL_START", "2010-06-06"))
    today = dt.date.today()
    first_hourly = today - dt.timedelta(days=demo.DEMO_HOURLY_DAYS)
    hourly = {source: databento.HOURLY_BARS in [t.spec for t in tables] for source, tables in DECLARED}

    def partitions_from(asset, first: dt.date) -> int:  # the asset's own grain: daily, weekdays, weekly or monthly
        partitions = asset.partitions_def
        return sum(1 for key in partitions.get_partition_keys()
                   if partitions.time_window_for_partition_key(key).end.date() > first)

    partitions = {asset: partitions_from(asset, first_hourly if asset in definitions.HOURLY_ASSETS else start)
                  for asset in definitions.RAW_ASSETS}
    events_by_asset = {asset.node_def.name: len(asset.keys) * count for asset, count in partitions.items()}
    events = sum(events_by_asset.values())
    # Dagster 1.13 writes a planned row per check and partition of a ranged run, unpartitioned checks included
    check_rows = sum(len(asset.check_keys) * count for asset, count in partitions.items())
    seconds, stages = {}, {}
    with tempfile.TemporaryDirectory(prefix="cbi_bench_backfill_") as tmp:
        base = Path(tmp)
        seconds["sqlite"], stages["sqlite"] = _timed_demo(_demo_env(base / "sqlite", start.isoformat(), start.isoformat()),
                                                          "--ingest-only")
        with postgres_server() as postgres:
            env = {**_demo_env(base / "postgres", start.isoformat(), start.isoformat()),
                   **deploy_instance_home(base / "postgres" / "dagster_home", postgres)}
            seconds["postgres"], stages["postgres"] = _timed_demo(env, "--ingest-only")
        ctx = _sample_context(base / "lib")
        ctx.history_start = start
        conn = warehouse.connect(base / "lib" / "w.duckdb")
        warehouse.apply_migrations(conn, Settings.from_env().sql_dir)
        asset_of = {key: asset.node_def.name for asset in definitions.RAW_ASSETS for key in asset.keys}
        stages["lib"] = {}
        for source, tables in DECLARED:
            t0 = time.perf_counter()
            ingest(source(), Window(first_hourly if hourly[source] else start, today + dt.timedelta(days=1),
                                    include_history=True), ctx, conn)
            stages["lib"][asset_of[tables[0].key]] = time.perf_counter() - t0
        seconds["lib"] = sum(stages["lib"].values())
        conn.close()
    overhead = {kind: 1000 * (seconds[kind] - seconds["lib"]) / events for kind in ("sqlite", "postgres")}
    # where the time goes: each asset's ranged run against its partition-events (tables x partitions)
    for name, count in sorted(events_by_asset.items(), key=lambda item: -stages["sqlite"].get(item[0], 0)):
        sqlite, postgres = stages["sqlite"].get(name, 0), stages["postgres"].get(name, 0)
        print(f"  {name:<26} {count:7,} partition-events  SQLite {sqlite:7.1f} s ({1000 * sqlite / count:5.1f} ms each)  "
              f"Postgres {postgres:6.1f} s  lib.ingest alone {stages['lib'].get(name, 0):5.1f} s")
    print(f"{'backfill_postgres':<28} {seconds['postgres']:9.2f} s (goal <= 200 s)")
    print(f"{'dagster_ms_per_partition':<28} {overhead['sqlite']:9.2f} ms SQLite, {overhead['postgres']:.2f} ms Postgres "
          f"(goal <= 2 ms; lib.ingest alone {seconds['lib']:.1f} s for {events:,} partitions of an asset, "
          f"with {check_rows:,} planned check rows)")
    return {"seconds": seconds["sqlite"], "goal": "<= 200 s", "postgres_seconds": seconds["postgres"],
            "lib_ingest_seconds": seconds["lib"], "start": start.isoformat(), "partitions_of_an_asset": events,
            "planned_check_rows": check_rows,
            "dagster_ms_per_partition": overhead, "partition_events_by_asset": events_by_asset, "stages": stages}


@bench("dagster_event_profile")
def dagster_event_profile() -> dict:
    """Where a partition's cost goes, on the local SQLite instance and on the deployed Postgres
    config: one ranged run of raw/futures_ohlcv_1d over CBI_BENCH_PROFILE_YEARS (default 2) of
    weekday partitions under cProfile, each in its own process (cProfile slows Python code, so
    compare the shares, not the seconds, with `backfill`)."""
    from cbi_platform_tests.bench.event_profile import PARTS
    from cbi_platform_tests.processes import deploy_instance_home, postgres_server

    years = int(os.environ.get("CBI_BENCH_PROFILE_YEARS", "2"))
    start = (dt.date.today() - dt.timedelta(days=365 * years)).isoformat()

    def profiled(env: dict[str, str]) -> dict:
        done = subprocess.run([sys.executable, "-m", "cbi_platform_tests.bench.event_profile", "databento_ohlcv_1d"],
                              env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"event_profile failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    profiles = {}
    with tempfile.TemporaryDirectory(prefix="cbi_bench_profile_") as tmp:
        base = Path(tmp)
        profiles["sqlite"] = profiled(_demo_env(base / "sqlite", start, start))
        with postgres_server() as postgres:
            profiles["postgres"] = profiled({**_demo_env(base / "postgres", start, start),
                                             **deploy_instance_home(base / "postgres" / "dagster_home", postgres)})
    for kind, profile in profiles.items():
        events = profile["partitions"] * profile["tables"]
        print(f"  {kind}: {profile['asset']}, {events:,} partition-events ({profile['checks']} checks each) in "
              f"{profile['seconds']:.1f} s under cProfile ({1000 * profile['seconds'] / events:.1f} ms each)")
        for part, seconds in profile["parts"].items():
            if seconds:
                print(f"    {PARTS[part][0]:<84} {seconds:7.1f} s  {100 * seconds / profile['seconds']:5.1f}%")
    return {"seconds": sum(p["seconds"] for p in profiles.values()), "profiles": profiles,
            "share_in_dagster_events": {kind: p["parts"]["events"] / p["seconds"] for kind, p in profiles.items()}}


@bench("dask_retrain")
def dask_retrain() -> dict:
    """Retraining every ZL member (main, eight specialists, linear, baselines; fast profile) on a
    Dask cluster of 2 workers vs 1 worker, each its own process on 127.0.0.1, after `make demo`'s
    pipeline (run as `make demo` runs it, daily partitions from January 1) built a warehouse. Each
    worker's fits use its share of the cores (CBI_TRAINING_CPUS): on 2 cores, 2 workers of one core
    each against 1 worker of two; left to count the cores, two fits of two threads each on two
    cores ran a specialist 20x slower than alone."""
    from cbi_platform.defs.models import MEMBER_ASSETS
    from cbi_platform_tests.dask_cluster import dask_cluster, dask_environment, materialize
    from cbi_platform_tests.processes import free_port

    members = [next(iter(asset.keys)).to_user_string() for asset in MEMBER_ASSETS]
    with tempfile.TemporaryDirectory(prefix="cbi_bench_dask_") as tmp:
        base = Path(tmp)
        env = _demo_env(base, f"{dt.date.today().year}-01-01")
        _timed_demo(env)
        seconds = {}
        for workers in (1, 2):
            port = free_port()
            cores = max(1, (os.cpu_count() or 1) // workers)
            cluster_env = {**dask_environment(env, port, PROJECT_ROOT), "CBI_TRAINING_CPUS": str(cores)}
            with dask_cluster(workers, cluster_env, base / f"dask{workers}", port):
                t0 = time.perf_counter()
                launched = materialize(members, cluster_env)
                seconds[workers] = time.perf_counter() - t0
            if launched.returncode != 0:
                raise RuntimeError(f"the retrain on {workers} Dask worker(s) failed:\n{launched.stderr[-3000:]}")
    return {"seconds": seconds[2], "one_worker_seconds": seconds[1], "ratio": seconds[2] / seconds[1], "goal": "< 1.0",
            "steps": len(members), "cores": os.cpu_count()}


def _sample_context(base: Path, signal: float = 1.0):
    import datetime as dt

    from cbi_platform.lib.landing import LandingZone
    from cbi_platform.lib.sample.transport import SampleWorldTransport
    from cbi_platform.lib.sample.world import get_world
    from cbi_platform.lib.sources.context import FetchContext

    settings = Settings.from_env()
    today = dt.date.today()
    world = get_world(settings.sample_seed, signal, settings.config_dir)
    return FetchContext("sample", LandingZone(base / "landing"), base / "files", settings.config_dir, today,
                        SampleWorldTransport(world, today))


@bench("hourly_ingest")
def hourly_ingest() -> dict:
    """Parse + atomic write of a year of hourly bars for every root, vs DBNStore.to_df() on the
    same bytes (our overhead over decoding; goal <= 1.5x)."""
    import datetime as dt

    import databento as db

    from cbi_platform.lib import warehouse
    from cbi_platform.lib.ingest import parse_window, write_window
    from cbi_platform.lib.sources import databento
    from cbi_platform.lib.window import Window

    with tempfile.TemporaryDirectory(prefix="cbi_bench_") as tmp:
        ctx = _sample_context(Path(tmp))
        end = ctx.today
        window = Window(end - dt.timedelta(days=365), end)
        (payload,) = databento.fetch(window, ctx, "ohlcv-1h")
        baseline = best_of(3, lambda: db.DBNStore.from_bytes(payload.body).to_df())
        spec = databento.spec("ohlcv-1h")
        conn = warehouse.connect(Path(tmp) / "w.duckdb")
        warehouse.apply_migrations(conn, Settings.from_env().sql_dir)
        ours = best_of(3, lambda: write_window(conn, spec, window, parse_window(spec, window, [payload])))
        rows = conn.execute("SELECT count(*) FROM raw.futures_ohlcv_1h").fetchone()[0]
        conn.close()
    return {"seconds": ours, "baseline_to_df_seconds": baseline, "ratio": ours / baseline, "goal": "<= 1.5", "rows": rows}


@bench("partition_scaling")
def partition_scaling() -> dict:
    """A one-day partition of raw/futures_ohlcv_1d as a fraction of a one-year backfill, both
    fetched, parsed and written (goal <= 1/50: cost follows the window, not the history)."""
    import datetime as dt

    from cbi_platform.lib import warehouse
    from cbi_platform.lib.ingest import ingest
    from cbi_platform.lib.sources import databento
    from cbi_platform.lib.window import Window

    with tempfile.TemporaryDirectory(prefix="cbi_bench_") as tmp:
        ctx = _sample_context(Path(tmp))
        spec = databento.spec("ohlcv-1d")
        conn = warehouse.connect(Path(tmp) / "w.duckdb")
        warehouse.apply_migrations(conn, Settings.from_env().sql_dir)
        day = ctx.today - dt.timedelta(days=(ctx.today.weekday() + 3) % 7 or 7)  # a recent weekday
        year = Window(day - dt.timedelta(days=365), day + dt.timedelta(days=1))
        ingest(spec, year, ctx, conn)  # warm the world and the caches
        t_year = best_of(3, lambda: ingest(spec, year, ctx, conn))
        t_day = best_of(5, lambda: ingest(spec, Window(day, day + dt.timedelta(days=1)), ctx, conn))
        conn.close()
    return {"seconds": t_day, "one_year_seconds": t_year, "ratio": t_day / t_year, "goal": "<= 0.02"}


def _sample_warehouse(base: Path, signal: float = 1.0, history_start=None):
    """A warehouse of every daily source from the sample world, features built."""
    import datetime as dt

    from cbi_platform.lib import warehouse
    from cbi_platform.lib.ingest import ingest
    from cbi_platform.lib.sources import cftc, databento, eia, epa_rin, fred, news, usda_esr, usda_wasde
    from cbi_platform.lib.window import Window

    settings = Settings.from_env()
    ctx = _sample_context(base, signal)
    ctx.history_start = history_start or settings.history_start
    conn = warehouse.connect(base / "w.duckdb")
    warehouse.apply_migrations(conn, settings.sql_dir)
    window = Window(ctx.history_start, ctx.today + dt.timedelta(days=1), include_history=True)
    for spec in [fred.spec(), databento.spec("ohlcv-1d"), databento.spec("statistics"), databento.spec("options"),
                 cftc.spec(), epa_rin.spec(), usda_esr.spec(), usda_wasde.spec(), eia.spec(), news.spec()]:
        ingest(spec, window, ctx, conn)
    return conn


@bench("features_build")
def features_build() -> dict:
    """All feature views over 15 years of sample data vs one count(*) pass over the raw tables
    they read (the floor of reading the inputs), and the peak memory of the build."""
    import datetime as dt
    import threading

    import psutil

    from cbi_platform.lib import features

    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="cbi_bench_") as tmp:
        conn = _sample_warehouse(Path(tmp), history_start=dt.date.today() - dt.timedelta(days=15 * 365))
        tables = features.raw_tables(conn)
        floor = best_of(3, lambda: [conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in tables])
        process, peak, running = psutil.Process(), [0], [True]

        def watch():
            while running[0]:
                peak[0] = max(peak[0], process.memory_info().rss)
                time.sleep(0.02)

        base_rss = process.memory_info().rss
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        def build():
            for name in (*features.FEATURE_ORDER, "mes_hourly"):
                features.run_sql(conn, settings.sql_dir, name, settings.config_dir)
            for bucket in features.load_buckets(settings.config_dir):
                features.build_bucket_view(conn, settings.config_dir, bucket)

        seconds = best_of(3, build)
        running[0] = False
        watcher.join()
        rows = conn.execute("SELECT count(*) FROM features.zl_daily_matrix").fetchone()[0]
        conn.close()
    return {"seconds": seconds, "floor_count_seconds": floor, "ratio": seconds / floor, "goal": "report",
            "peak_rss_mb": round(peak[0] / 2**20, 1), "rss_growth_mb": round((peak[0] - base_rss) / 2**20, 1),
            "matrix_rows": rows}


@bench("monte_carlo")
def monte_carlo() -> dict:
    """1,000,000 scenarios x 4 horizons vs the numpy floor (drawing the uniforms and one
    np.interp over them per horizon); goal <= 2x."""
    import numpy as np

    from cbi_platform.lib.ml.quantiles import QUANTILES
    from cbi_platform.lib.risk.montecarlo import TailScales, scenarios

    grids = np.array([[-0.06, -0.045, 0.0, 0.045, 0.06], [-0.12, -0.09, 0.0, 0.09, 0.12],
                      [-0.2, -0.15, 0.0, 0.15, 0.2], [-0.28, -0.21, 0.0, 0.21, 0.28]])
    tails = [TailScales(0.02, 0.02)] * 4
    n = 1_000_000

    def floor():
        u = np.random.default_rng(0).random(n)
        return [np.interp(u, QUANTILES, grid) for grid in grids]

    baseline = best_of(5, floor)
    ours = best_of(5, lambda: scenarios(grids, tails, n, seed=0))
    return {"seconds": ours, "numpy_floor_seconds": baseline, "ratio": ours / baseline, "goal": "<= 2.0"}


@bench("forecast_skill")
def forecast_skill() -> dict:
    """Out-of-sample pinball skill per horizon on the sample world (planted signal), ensemble and
    main model vs climatology, and a plain AutoGluon on ZL's price history alone (what a user
    would try first) vs climatology; coverage; training time of the fast profile. And the strategy
    backtest on the ensemble's forecasts, in the planted-signal world and in the null world (where
    it should earn nothing beyond noise)."""
    from cbi_platform.lib.ml.evaluation import evaluate, strategy_summary
    from cbi_platform.lib.ml.train import load_training_config
    from cbi_platform.lib.risk.strategy import headline

    settings = Settings.from_env()
    matrix = _sample_matrix(signal=1.0)
    config = load_training_config(settings.config_dir, "fast")
    t0 = time.perf_counter()
    full = evaluate(matrix, config)
    seconds = time.perf_counter() - t0
    price_only = evaluate(matrix, config, features=["zl_ret_1d", "zl_ret_5d", "zl_ret_21d", "zl_ret_63d", "zl_vol_21d",
                                                      "zl_vol_63d", "zl_close"])
    table = {h: {"ensemble_skill": round(r.ensemble.skill, 4), "noise_band": round(r.ensemble.band, 4),
                 "main_model_skill": round(r.main.skill, 4), "price_history_autogluon_skill": round(price_only[h].main.skill, 4),
                 "coverage_p10_p90": round(r.coverage, 3)} for h, r in full.items()}
    for horizon, row in table.items():
        print(f"    {horizon}: {row}")
    strategy = {"planted_signal": headline(strategy_summary(full, matrix, settings.config_dir))}
    null_matrix = _sample_matrix(signal=0.0)
    strategy["null_world"] = headline(strategy_summary(evaluate(null_matrix, config), null_matrix, settings.config_dir))
    _print_strategy(strategy)
    return {"seconds": seconds, "by_horizon": table, "strategy": strategy}


def _sample_matrix(signal: float):
    return _sample_inputs(signal)[0]


def _sample_inputs(signal: float):
    """The sample world's ZL matrix and each bucket specialist's matrix, as the platform trains them."""
    from cbi_platform.lib import features

    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="cbi_bench_") as tmp:
        conn = _sample_warehouse(Path(tmp), signal)
        for name in features.FEATURE_ORDER:
            features.run_sql(conn, settings.sql_dir, name, settings.config_dir)
        matrix = conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()
        specialists = _specialist_matrices(conn, settings)
        conn.close()
    return matrix, specialists


def _specialist_matrices(conn, settings: Settings) -> dict:
    from cbi_platform.lib import features
    from cbi_platform.lib.forecast import member_matrix_sql

    specialists = {}
    for bucket in features.load_buckets(settings.config_dir):
        features.build_bucket_view(conn, settings.config_dir, bucket)
        specialists[f"bucket_{bucket}"] = conn.execute(member_matrix_sql(f"bucket_{bucket}")).df()
    return specialists


def _print_strategy(by_world: dict[str, dict]) -> None:
    for world, by_horizon in by_world.items():
        for horizon, row in by_horizon.items():
            print(f"    strategy {world} {horizon}: Sharpe {row['sharpe']:+.2f} (90% {row['sharpe_90pct'][0]:+.2f}.."
                  f"{row['sharpe_90pct'][1]:+.2f}), max drawdown ${row['max_drawdown_usd']:,} over "
                  f"{row['max_drawdown_days']} days, hit rate {row['hit_rate']:.1%}; climatology Sharpe "
                  f"{row.get('climatology_sharpe', float('nan')):+.2f}, buy-and-hold {row.get('buy_and_hold_sharpe', float('nan')):+.2f}")


ZL_MEMBERS_TRAINED = 9  # the main ZL model and the eight bucket specialists, each an AutoGluon quantile model


@bench("profile_fits")
def profile_fits() -> dict:
    """One specialist per training profile: the main ZL model's final fit at 1m on the sample
    world, with every model family its profile lists actually training (AutoGluon's leaderboard),
    the fit's time, and the whole ZL training's fit count (9 models x 4 horizons x (folds + 1)).
    The count times the fit is an upper estimate: walk-forward folds train on fewer rows.
    CBI_BENCH_PROFILES limits the profiles (comma-separated); a warm-up fit first, untimed."""
    from cbi_platform.lib.ml import splits
    from cbi_platform.lib.ml.models import AutoGluonQuantile
    from cbi_platform.lib.ml.train import TARGET_END_PREFIX, TARGET_PREFIX, feature_columns, load_training_config, usable_rows

    settings = Settings.from_env()
    wanted = os.environ.get("CBI_BENCH_PROFILES", "").strip()
    names = wanted.split(",") if wanted else list(_profile_names(settings))
    matrix = _sample_matrix(signal=1.0)
    label, end = f"{TARGET_PREFIX}1m", f"{TARGET_END_PREFIX}1m"
    rows = usable_rows(matrix)
    known = rows[rows[label].notna() & rows[end].notna()].reset_index(drop=True)
    validation = load_training_config(settings.config_dir, "fast")
    final = splits.final_fit(known["trade_date"], known[end], validation.embargo_days, validation.tune_fraction)
    train, tune = known.iloc[final.train], known.iloc[final.tune]
    features = feature_columns(matrix)
    with tempfile.TemporaryDirectory(prefix="cbi_bench_warm_") as tmp:  # AutoGluon's lazy imports: not part of any fit
        fast = load_training_config(settings.config_dir, "fast")
        AutoGluonQuantile(label, features, fast.hyperparameters, Path(tmp) / "model").fit(train.tail(600), tune)
    out, total = {}, 0.0
    for name in names:
        config = load_training_config(settings.config_dir, name)
        with tempfile.TemporaryDirectory(prefix=f"cbi_bench_{name}_") as tmp:
            model = AutoGluonQuantile(label, features, config.hyperparameters, Path(tmp) / "model", config.time_limit)
            t0 = time.perf_counter()
            model.fit(train, tune)
            seconds = time.perf_counter() - t0
            board = model.leaderboard(tune)
        total += seconds
        configured = {key: len(value) if isinstance(value, list) else 1 for key, value in config.hyperparameters.items()}
        missing = model.families_missing
        trained = {key: count - missing.get(key, 0) for key, count in configured.items()}
        fits = ZL_MEMBERS_TRAINED * len(config.horizons) * (config.folds + 1)
        real_fits = ZL_MEMBERS_TRAINED * len(config.horizons) * (load_training_config(settings.config_dir, name, "files").folds + 1)
        out[name] = {"fit_seconds": round(seconds, 1), "train_rows": int(len(train)), "families_configured": configured,
                     "families_trained": trained, "families_missing": missing, "time_limit": config.time_limit,
                     "whole_training_fits": fits, "whole_training_upper_estimate_minutes": round(fits * seconds / 60, 1),
                     "real_data_fits": real_fits, "real_data_upper_estimate_minutes": round(real_fits * seconds / 60, 1),
                     "tune_pinball_by_model": {m: round(float(v), 5) for m, v in zip(board["model"], board["tune_pinball"])},
                     "fit_seconds_by_model": {m: round(float(v), 1) for m, v in zip(board["model"], board["fit_time"])}}
        print(f"    {name}: one fit {seconds:.1f} s on {len(train)} rows; families trained {trained}"
              f"{' MISSING ' + str(missing) if missing else ''}; whole training {fits} fits, <= "
              f"{fits * seconds / 60:.0f} min (real data: {real_fits} fits, <= {real_fits * seconds / 60:.0f} min); "
              f"seconds by model {out[name]['fit_seconds_by_model']}", flush=True)
    if any(o["families_missing"] for o in out.values()):
        raise RuntimeError(f"profile_fits: model families listed but not trained: "
                           f"{ {n: o['families_missing'] for n, o in out.items() if o['families_missing']} }")
    return {"seconds": total, "by_profile": out}


def _profile_names(settings: Settings) -> list[str]:
    from cbi_platform.lib.config import load_yaml

    return list(load_yaml(settings.config_dir / "training.yaml")["profiles"])


@bench("real_data")
def real_data() -> dict:
    """The pipeline on the real exports in ../shared/real (and pre1990/) through files mode: ZL, ZS,
    ZM, CL, ES settle CSVs and FRED DGS10, VIXCLS, DEXBZUS CSVs, with history from 1959 and, beside
    it, from 1990. Walk-forward by test year (2000-2009), skill against climatology per horizon
    with a bootstrap interval over years, calibrated coverage (overall, by year, and the 5-95% range
    a perfectly calibrated forecaster shows on as many overlapping outcomes), the returns gates and
    rolls per year per root: reported honestly, whatever they are."""
    starts = [dt.date.fromisoformat(s) for s in os.environ["CBI_BENCH_REAL_STARTS"].split(",")] \
        if os.environ.get("CBI_BENCH_REAL_STARTS") else REAL_DATA_STARTS
    runs = {f"history_from_{start.year}": _real_data_run(start) for start in starts}
    return {"seconds": sum(run["seconds"] for run in runs.values()), **runs}


REAL_DATA_STARTS = (dt.date(1959, 1, 1), dt.date(1990, 1, 1))


def _real_data_run(start: dt.date, profile: str = "fast", horizons: list[str] | None = None) -> dict:

    import numpy as np

    from cbi_platform.lib import features, quality, warehouse
    from cbi_platform.lib.ingest import ingest
    from cbi_platform.lib.landing import LandingZone
    from cbi_platform.lib.ml.evaluation import evaluate, strategy_summary
    from cbi_platform.lib.ml.quantiles import SHORT_HORIZON_COVERAGE, calibrated_coverage_range, coverage
    from cbi_platform.lib.ml.train import load_training_config
    from cbi_platform.lib.sources import databento, fred
    from cbi_platform.lib.sources.context import FetchContext
    from cbi_platform.lib.window import Window

    settings = Settings.from_env()
    real = PROJECT_ROOT.parent / "shared" / "real"
    print(f"  history from {start}")
    with tempfile.TemporaryDirectory(prefix="cbi_bench_real_") as tmp:
        ctx = FetchContext("files", LandingZone(Path(tmp) / "landing"), real, settings.config_dir, dt.date(2010, 1, 1))
        conn = warehouse.connect(Path(tmp) / "w.duckdb")
        warehouse.apply_migrations(conn, settings.sql_dir)
        # a window from `start` without history: rows published before it stay out
        window = Window(start, dt.date(2010, 1, 1), include_history=False)
        ingest(fred.spec(), window, ctx, conn)
        ingest(databento.spec("ohlcv-1d"), window, ctx, conn)
        for name in features.FEATURE_ORDER:
            features.run_sql(conn, settings.sql_dir, name, settings.config_dir)
        gates = {o.name: o.passed for o in quality.futures_returns_gates(conn)}
        rolls: dict[str, dict[int, list[int]]] = {}  # [as known that day, settled]
        for root, year, count, settled, _ in quality.rolls_per_year(conn):
            rolls.setdefault(root, {})[int(year)] = [int(count), int(settled)]
        matrix = conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()
        # the bucket specialists too: the ensemble measured is the one the platform publishes
        specialists = _specialist_matrices(conn, settings)
        conn.close()
    print(f"    returns gates: {gates}")
    for root, years in rolls.items():
        known, settled = [v[0] for v in years.values()], [v[1] for v in years.values()]
        print(f"    rolls per year {root} (known that day / settled): {min(known)}-{max(known)} / {min(settled)}-{max(settled)} "
              f"{years}")
    config = load_training_config(settings.config_dir, profile, "files")  # ten test years: 2000-2009
    t0 = time.perf_counter()
    results = evaluate(matrix, config, horizons=horizons, specialists=specialists)
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    table = {}
    for horizon, result in results.items():
        losses = result.losses.assign(year=lambda f: [d.year for d in f["as_of_date"]])
        by_year = losses.groupby("year")[["ensemble", "climatology"]].sum()
        skills = []
        for _ in range(2000):
            sample = by_year.iloc[rng.integers(0, len(by_year), len(by_year))]
            skills.append(1 - sample["ensemble"].sum() / sample["climatology"].sum())
        low, high = np.percentile(skills, [5, 95])
        calibrated = result.calibrated.assign(year=lambda f: [d.year for d in f["as_of_date"]])
        by_year_coverage = {int(y): round(coverage(f["realised"], f["q10"], f["q90"]), 2) for y, f in calibrated.groupby("year")}
        chance = calibrated_coverage_range(len(calibrated), config.horizons[horizon])
        rate = result.coverage
        table[horizon] = {"ensemble_skill": round(result.ensemble.skill, 4),
                          "bootstrap_90pct_over_years": [round(float(low), 4), round(float(high), 4)],
                          "main_model_skill": round(result.main.skill, 4), "coverage_p10_p90": round(rate, 3),
                          "calibrated_forecaster_coverage_5_95pct": [round(chance[0], 3), round(chance[1], 3)],
                          "coverage_inside_calibrated_range": bool(chance[0] <= rate <= chance[1]),
                          "coverage_meets_yardstick": bool(chance[0] <= rate <= chance[1] and (
                              config.horizons[horizon] > 63 or SHORT_HORIZON_COVERAGE[0] <= rate <= SHORT_HORIZON_COVERAGE[1])),
                          "coverage_by_year": by_year_coverage, "test_years": int(len(by_year)),
                          "weights": {k: round(v, 2) for k, v in result.weights.items() if v}}
        print(f"    {horizon}: {table[horizon]}")
    from cbi_platform.lib.risk.strategy import headline

    strategy = headline(strategy_summary(results, matrix, settings.config_dir))
    _print_strategy({"real": strategy})
    return {"seconds": seconds, "profile": profile, "history_start": str(start), "zl_rows": int(len(matrix)), "returns_gates": gates,
            "rolls_per_year": rolls, "by_horizon": table, "strategy": strategy}


@bench("profile_end_to_end", on_request=True)
def profile_end_to_end() -> dict:
    """A profile end to end (CBI_BENCH_PROFILE, default `medium`; `fast` is what make demo and
    real_data run): the whole ZL training (main model, eight specialists, linear and baselines,
    4 horizons, walk-forward) and the ensemble, on the sample world (planted signal) and on the
    real files from 1990 (ten test years, as real_data): time, skill and coverage per horizon.
    Hours on 2 cores beyond `fast` (profile_fits estimates them), so only when named;
    CBI_BENCH_HORIZONS (e.g. 1m) and CBI_BENCH_WORLDS (sample, real) narrow it."""
    from cbi_platform.lib.ml.evaluation import evaluate
    from cbi_platform.lib.ml.train import load_training_config

    settings = Settings.from_env()
    profile = os.environ.get("CBI_BENCH_PROFILE", "medium")
    horizons = os.environ["CBI_BENCH_HORIZONS"].split(",") if os.environ.get("CBI_BENCH_HORIZONS") else None
    worlds = os.environ.get("CBI_BENCH_WORLDS", "sample,real").split(",")
    out: dict = {"seconds": 0.0, "profile": profile, "horizons": horizons or "all"}
    if "sample" in worlds:
        matrix, specialists = _sample_inputs(signal=1.0)
        t0 = time.perf_counter()
        results = evaluate(matrix, load_training_config(settings.config_dir, profile), horizons=horizons, specialists=specialists)
        out["sample_seconds"] = time.perf_counter() - t0
        out["sample_by_horizon"] = {h: {"ensemble_skill": round(r.ensemble.skill, 4), "noise_band": round(r.ensemble.band, 4),
                                        "main_model_skill": round(r.main.skill, 4), "coverage_p10_p90": round(r.coverage, 3)}
                                    for h, r in results.items()}
        out["seconds"] += out["sample_seconds"]
        print(f"    sample world, {profile}: {out['sample_seconds'] / 60:.1f} min", flush=True)
        for horizon, row in out["sample_by_horizon"].items():
            print(f"      {horizon}: {row}", flush=True)
    if "real" in worlds:
        out["real_from_1990"] = _real_data_run(dt.date(1990, 1, 1), profile=profile, horizons=horizons)
        out["seconds"] += out["real_from_1990"]["seconds"]
        print(f"    real files from 1990, {profile}: {out['real_from_1990']['seconds'] / 60:.1f} min", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all but {', '.join(sorted(ON_REQUEST))}): "
                                                  f"{', '.join(BENCHES)}")
    args = parser.parse_args(argv)
    results = {}
    for name in args.names or [n for n in BENCHES if n not in ON_REQUEST]:
        outcome = BENCHES[name]()
        results[name] = outcome
        ratio = (f" ratio {outcome['ratio']:.2f} (goal {outcome['goal']})" if "ratio" in outcome
                 else f" (goal {outcome['goal']})" if "goal" in outcome else "")
        print(f"{name:<28} {outcome['seconds']:9.2f} s{ratio}", flush=True)
    out_dir = Settings.from_env().data_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
