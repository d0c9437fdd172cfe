"""The one way raw assets are built: a daily-partitioned asset around `lib.ingest.ingest`.

Ranged backfills run as one fetch (`BackfillPolicy.single_run()`); retries back off
exponentially with jitter; every warehouse writer shares the `warehouse` pool (DuckDB allows
one writing process). Checks run on what was written and are emitted with the materialisation.
"""


import datetime as dt
import json
from collections.abc import Callable, Sequence

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.partitions import daily_partitions
from cbi_platform.defs.resources import SourceResource, Warehouse
from cbi_platform.lib import quality
from cbi_platform.lib.sources.base import SourceError, Window

WAREHOUSE_POOL = "warehouse"
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
BASE_CHECKS = [
    ("primary_key_unique", "No two rows share a primary key in the window", True),
    ("no_future_as_of", "No row claims to have been published after today", True),
    ("rows_present", "Rows exist whenever the source publishes in the window", True),
    ("no_gaps", "Every expected symbol or series returned rows (WARN lists the ones that did not)", False),
]

ExtraChecks = Callable[[object, Window, object], list[quality.CheckOutcome]]


def partition_window(context: dg.AssetExecutionContext) -> Window:
    time_window = context.partition_time_window
    start, end = time_window.start.date(), time_window.end.date()
    first = dt.date.fromisoformat(daily_partitions.start.strftime("%Y-%m-%d"))
    return Window(start, end, include_history=start <= first)


def report_metadata(report, mode: str) -> dict:
    return {
        "window": report.window.label,
        "mode": mode,
        "rows": dg.MetadataValue.json(report.rows),
        "dagster/row_count": sum(report.rows.values()),
        "payloads": report.payloads,
        "payload_bytes": report.payload_bytes,
        "gaps": dg.MetadataValue.md(", ".join(report.gaps) if report.gaps else "none"),
        "rows_by_key": dg.MetadataValue.json(json.loads(json.dumps(report.keys))),
        "requests": dg.MetadataValue.json(report.requests),
    }


def ingest_asset(
    *,
    source: Callable[[], object],  # returns the lib.ingest.SourceSpec (built at run time)
    table: str,
    description: str,
    group: str,
    kinds: set[str],
    primary_key: Sequence[str],
    extra_checks: Sequence[tuple[str, str, bool]] = (),
    run_extra_checks: ExtraChecks | None = None,
    publication_expected: Callable[[Window], bool] = lambda window: any(d.weekday() < 5 for d in window.days()),
) -> dg.AssetsDefinition:
    key = dg.AssetKey(table.split("."))

    @dg.asset(
        key=key,
        description=description,
        group_name=group,
        kinds=kinds | {"duckdb"},
        owners=["team:data-platform"],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=NETWORK_RETRY,
        pool=WAREHOUSE_POOL,
        check_specs=specs(key, [*BASE_CHECKS, *extra_checks]),
        metadata={"table": table, "primary_key": ", ".join(primary_key)},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
        from cbi_platform.lib.ingest import ingest  # parsers and pandas load when a run needs them

        spec = source()
        window = partition_window(context)
        fetch_context = sources.fetch_context()
        with warehouse.get_connection() as conn:
            try:
                report = ingest(spec, window, fetch_context, conn)
            except SourceError as exc:
                # only transient failures are worth the retry policy's next attempt
                raise dg.Failure(description=str(exc), allow_retries=exc.retryable) from None
            outcomes = [
                quality.primary_key_unique(conn, table, primary_key, window),
                quality.no_future_as_of(conn, table, fetch_context.today),
                quality.rows_present(conn, table, window, publication_expected(window)),
                quality.gaps(report.gaps, "keys"),
            ]
            if run_extra_checks:
                outcomes += run_extra_checks(conn, window, report)
        if report.gaps:
            context.log.warning(f"{spec.name} [{window.label}]: no rows for {', '.join(report.gaps)}")
        return dg.MaterializeResult(
            metadata=report_metadata(report, sources.mode),
            check_results=[to_result(o) for o in outcomes],
        )

    return _asset
