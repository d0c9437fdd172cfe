"""`make demo`: materialise the whole asset graph on the embedded default and print a summary.

Runs through a persistent Dagster instance (DAGSTER_HOME, default data/dagster_home), so
`make ui` afterwards shows every materialisation, check and partition of this run. Re-running
is quick: only raw partitions not yet materialised are fetched, and models whose data and
config did not change are not retrained.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

DEMO_HOURLY_DAYS = 60


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # a run's console log: warnings only


def local_instance(settings):
    """The Dagster instance of `settings`' data dir (DAGSTER_HOME), its dagster.yaml written first."""
    import dagster as dg

    from cbi_platform.instance import ensure_home

    ensure_home(settings.data_dir)
    return dg.DagsterInstance.get()


def materialize_range(assets, start: str, end: str, instance, resources):
    """One ranged run of `assets` over the partitions start..end (their BackfillPolicy.single_run)."""
    import dagster as dg

    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    return dg.materialize(assets, instance=instance, resources=resources, tags=tags, run_config=QUIET)


def _missing_range(instance, asset_key, partitions_def, first: str | None = None) -> tuple[str, str] | None:
    """The span from the first partition not yet materialised to the last one (or just the
    last partition when everything is there: today's data may have grown)."""
    keys = partitions_def.get_partition_keys()
    if first:
        keys = [k for k in keys if k >= first]
    done = instance.get_materialized_partitions(asset_key)
    missing = [k for k in keys if k not in done]
    return (missing[0], keys[-1]) if missing else (keys[-1], keys[-1])


def run(settings, instance, profile: str | None = None, hourly_days: int = DEMO_HOURLY_DAYS,
        ingest_only: bool = False) -> tuple[dict, list]:
    """Materialise everything: raw partitions not yet materialised in `instance` (ranged runs),
    then features, models, forecasts and risk. Returns wall times by stage and the runs' results."""
    import dagster as dg

    from cbi_platform import definitions as cbi
    from cbi_platform.lib.progress import Progress

    resources = cbi.resources(settings)
    timings, results = {}, []

    def ranged(assets, span):
        start, end = span
        result = materialize_range(assets, start, end, instance, resources)
        results.append(result)
        if not result.success:
            raise SystemExit(f"ingest {start}..{end} failed")

    first_hourly = (dt.date.today() - dt.timedelta(days=hourly_days)).isoformat()
    files_mode = settings.source_mode == "files"
    if files_mode:
        print("files mode: no hourly bars in vendor settle files, so the MES path (raw/futures_ohlcv_1h, "
              "features/mes_hourly, models/mes_training_snapshot, models/mes_timeseries, forecasts/mes_predictions) is "
              "left out", flush=True)
    spans = []
    for asset in cbi.RAW_ASSETS:
        if files_mode and asset in cbi.HOURLY_ASSETS:
            continue
        first_key, partitions = sorted(asset.keys)[0], asset.partitions_def
        span = _missing_range(instance, first_key, partitions, first=first_hourly if asset in cbi.HOURLY_ASSETS else None)
        spans.append((asset, span, len(partitions.get_partition_keys_in_range(dg.PartitionKeyRange(*span)))))
    progress = Progress("ingest", sum(count for _, _, count in spans), "partitions")
    for asset, span, count in spans:
        t0 = time.perf_counter()
        print(f"ingest {', '.join(k.to_user_string() for k in sorted(asset.keys))}: {span[0]} .. {span[1]}", flush=True)
        ranged([asset], span)
        timings[asset.node_def.name] = time.perf_counter() - t0
        progress.advance(count, asset.node_def.name)  # printed by print_progress

    if ingest_only:
        return timings, results
    t0 = time.perf_counter()
    print("features, models, forecasts, risk ...", flush=True)
    result = derived(settings, instance, profile)
    timings["features_models_risk"] = time.perf_counter() - t0
    results.append(result)
    if not result.success:
        raise SystemExit("the downstream run failed: see `make ui` for the failing step")
    return timings, results


def derived(settings, instance, profile: str | None = None):
    """One run of everything downstream of the raw tables (features, models, forecasts, risk, the
    report), as the refresh sensor would launch it; unchanged model versions are reused."""
    import dagster as dg

    from cbi_platform import definitions as cbi
    from cbi_platform.defs.models import TRAINING_ASSETS

    files_mode = settings.source_mode == "files"
    downstream = [a for a in cbi.ALL_ASSETS if a not in cbi.RAW_ASSETS
                  and not (files_mode and set(a.keys) & cbi.MES_ASSET_KEYS)]
    run_config = {"ops": {}, **QUIET}
    if profile:
        for asset in TRAINING_ASSETS:
            run_config["ops"][asset.op.name] = {"config": {"profile": profile}}
    return dg.materialize([*downstream, *cbi.RAW_ASSETS], selection=dg.AssetSelection.assets(*downstream),
                          instance=instance, resources=cbi.resources(settings), run_config=run_config)


def summary(settings) -> str:
    from cbi_platform.lib import warehouse
    from cbi_platform.lib.display import data_mode_label

    with warehouse.connection(settings.warehouse_path, read_only=True) as conn:
        latest = conn.execute(
            """SELECT horizon, as_of_date, target_date, last_price, p10_price, p50_price, p90_price, data_mode
               FROM forecasts.zl_predictions
               WHERE kind = 'live' AND as_of_date = (SELECT max(as_of_date) FROM forecasts.zl_predictions WHERE kind = 'live')
               ORDER BY horizon_days""").df()
        risk = conn.execute(
            """SELECT r.horizon, var95_return, cvar95_return, var99_return, cvar99_return, var95_usd, var99_usd
               FROM forecasts.risk_metrics r JOIN forecasts.zl_predictions p USING (as_of_date, horizon)
               WHERE r.kind = 'live' AND r.as_of_date = (SELECT max(as_of_date) FROM forecasts.risk_metrics WHERE kind = 'live')
               ORDER BY p.horizon_days""").df()
    lines = []
    if latest.empty:
        return "no live forecast was produced"
    mode = latest["data_mode"].iloc[0]
    label = f" ({data_mode_label(mode)}" + (f"; {settings.files_dir})" if mode == "files" else ")")
    lines.append(f"ZL soybean oil forecast as of {latest['as_of_date'].iloc[0].date()}, last settle "
                 f"{latest['last_price'].iloc[0]:.2f} c/lb{label}")
    lines.append(f"{'horizon':>8} {'target date':>12} {'P10':>8} {'P50':>8} {'P90':>8}")
    for row in latest.itertuples():
        lines.append(f"{row.horizon:>8} {str(row.target_date.date()):>12} {row.p10_price:8.2f} {row.p50_price:8.2f} {row.p90_price:8.2f}")
    lines.append("")
    lines.append("Value at Risk, long 1 ZL contract (60,000 lb); losses as positive numbers")
    lines.append(f"{'horizon':>8} {'VaR95':>8} {'CVaR95':>8} {'VaR99':>8} {'CVaR99':>8} {'VaR95 $':>10} {'VaR99 $':>10}")
    for row in risk.drop_duplicates("horizon").itertuples():
        lines.append(f"{row.horizon:>8} {row.var95_return:8.2%} {row.cvar95_return:8.2%} {row.var99_return:8.2%} "
                     f"{row.cvar99_return:8.2%} {row.var95_usd:10,.0f} {row.var99_usd:10,.0f}")
    report = settings.report_dir / "latest.html"
    if report.exists():
        lines += ["", f"report: {report}"]
    return "\n".join(lines)


def print_progress() -> None:
    """The walk-forward's `fit i of n` lines on stdout: the runs' own console logs stay at WARNING."""
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logger = logging.getLogger("cbi_platform.progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    from cbi_platform.lib import warehouse
    from cbi_platform.lib.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="training profile (default: $CBI_PROFILE or fast)")
    parser.add_argument("--summary-only", action="store_true", help="print the summary of the last run")
    parser.add_argument("--ingest-only", action="store_true",
                        help="only backfill the raw assets (every partition not yet materialised)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    print_progress()
    if not args.summary_only:
        with warehouse.connection(settings.warehouse_path) as conn:
            applied = warehouse.apply_migrations(conn, settings.sql_dir)
        print(f"warehouse {settings.warehouse_path}: {len(applied)} migration(s) applied", flush=True)
        t0 = time.perf_counter()
        timings, _ = run(settings, local_instance(settings), args.profile, ingest_only=args.ingest_only)
        timings["total"] = time.perf_counter() - t0
        print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    if args.ingest_only:
        return 0
    print()
    print(summary(settings))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: after AutoGluon has trained inside a Dagster run, DuckDB's
    # nanobind bindings print spurious "leaked instance" reports at exit (exit status stays 0).
    os._exit(code)
