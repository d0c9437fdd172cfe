"""The one way raw assets are built: a time-partitioned multi-asset around `lib.ingest.ingest`
(daily, weekdays, weekly or monthly, the source's publication cadence: defs/partitions.py), one asset per
warehouse table the source fills.

Ranged backfills run as one fetch (`BackfillPolicy.single_run()`); retries back off
exponentially with jitter; every warehouse writer shares the `warehouse` pool (DuckDB allows
one writing process). Checks run on what was written and are emitted with the materialisation.
"""

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.executors import warehouse_pool
from cbi_platform.defs.partitions import PARTITIONS, partition_window
from cbi_platform.defs.resources import SourceResource, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.quality import Check
from cbi_platform.lib.sources.base import SourceError
from cbi_platform.lib.window import Window

WAREHOUSE_POOL = warehouse_pool(SETTINGS)
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class IngestRunConfig(dg.Config):
    # A re-ingest that leaves a window with fewer rows than it holds is refused (what a truncated
    # export looks like); set this when fewer rows are expected (a vendor withdrew rows, say).
    allow_shrink: bool = False


@dataclass(frozen=True)
class RawTable:
    """One warehouse table a source fills, and how to check it (`checks` beyond the common ones,
    each evaluated on the `Written` rows)."""

    spec: TableSpec  # its name and primary key, declared by its source (lib/sources/<source>.py)
    description: str
    max_age_days: int  # freshness: the oldest acceptable latest publication, in days
    # whether the source publishes in a window (rows_present blocks an empty window only then):
    # its release calendar, so an exchange or federal holiday's partition is not a failure
    publication_expected: Callable[[Window], bool]
    checks: Sequence[Check] = ()
    metadata: dict = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> tuple[str, ...]:
        return self.spec.primary_key

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table.split("."))

    def all_checks(self, first: bool) -> list[Check]:
        """The common checks, the gap check on a source's first table, then the table's own."""
        return [*BASE_CHECKS, *([GAP_CHECK] if first else []), *self.checks]


@dataclass(frozen=True)
class Written:
    """What a raw table's checks look at: the window one ingest run wrote into `table`."""

    conn: object
    table: RawTable
    window: Window
    today: dt.date
    user_files: bool  # files mode: a gap may be the user's export, not the vendor's
    gaps: Sequence[str]


BASE_CHECKS = [
    Check("primary_key_unique", "No two rows share a primary key in the window",
          lambda w: quality.primary_key_unique(w.conn, w.table.table, w.table.primary_key, w.window)),
    Check("no_future_as_of", "No row claims to have been published after today",
          lambda w: quality.no_future_as_of(w.conn, w.table.table, w.today)),
    Check("rows_present", "Rows exist whenever the source publishes in the window",
          lambda w: quality.rows_present(w.conn, w.table.table, w.window, publication_expected(w.table, w.window),
                                         user_files=w.user_files)),
    Check("fresh", "The latest publication is no older than the source's cadence allows (WARN)",
          lambda w: quality.fresh(w.conn, w.table.table, w.today, w.table.max_age_days), blocking=False),
]
GAP_CHECK = Check("no_gaps", "Every expected symbol or series returned rows (WARN lists the ones that did not)",
                  lambda w: quality.gaps(w.gaps, "keys"), blocking=False)


def publication_expected(table: RawTable, window: Window) -> bool:
    """A window carrying the history before it (the first partition) always holds publications,
    whatever the release calendar says of its own days (a start on January 1, say)."""
    return window.include_history or table.publication_expected(window)


def run_window(context: dg.AssetExecutionContext, today: dt.date) -> Window:
    """The window of the run's partitions (defs/partitions.partition_window)."""
    time_window = context.partition_time_window
    first = context.assets_def.partitions_def.start.date()
    try:
        return partition_window(time_window.start.date(), time_window.end.date(), first, today, SETTINGS.end_date)
    except ValueError as exc:
        raise dg.Failure(description=f"{context.assets_def.node_def.name}: {exc}", allow_retries=False) from None


def report_metadata(report, table: str, mode: str, ranged: bool) -> dict:
    """What each partition's materialisation records. A ranged run copies its metadata into every
    partition's event (Dagster has no event for a range), so there it is a few scalars; the rows
    per key and the requests go once into the run's log (and the landing manifest has them)."""
    metadata = {
        "window": report.window.label,
        "mode": mode,
        "dagster/row_count": int(report.rows.get(table, 0)),
        "payloads": report.payloads,
        "payload_bytes": report.payload_bytes,
        "gap_count": len(report.gaps),
    }
    if not ranged:
        metadata |= {
            "gaps": dg.MetadataValue.md(", ".join(report.gaps) if report.gaps else "none"),
            "rows_by_key": dg.MetadataValue.json(json.loads(json.dumps(report.keys.get(table, {})))),
            "requests": dg.MetadataValue.json(report.requests),
        }
    return metadata


def range_detail(report) -> str:
    """The detail a ranged run leaves out of its partitions' events, as one log line."""
    rows = "; ".join(f"{table}: " + ", ".join(f"{k} {n}" for k, n in keys.items()) for table, keys in report.keys.items())
    return (f"{report.source} [{report.window.label}]: rows by key: {rows or 'none'}; requests: "
            + (", ".join(report.requests) or "none"))


def checked_ingest(spec: SourceSpec, tables: Sequence[RawTable], window: Window, fetch_context, conn, *,
                   user_files: bool, allow_shrink: bool = False):
    """A raw asset's work without Dagster: lib.ingest over the window, then each table's checks on
    what it wrote. Returns the ingest report and each table's check outcomes, in table order."""
    from cbi_platform.lib.ingest import ingest  # parsers and pandas load when a run needs them

    report = ingest(spec, window, fetch_context, conn, allow_shrink=allow_shrink)
    outcomes = [quality.evaluate(table.all_checks(index == 0),
                                 Written(conn, table, window, fetch_context.today, user_files, report.gaps))
                for index, table in enumerate(tables)]
    return report, outcomes


# every (source, tables) pair ingest_assets was given: a test checks that the source's table specs,
# the RawTables and the DDL agree on each table's name and primary key
DECLARED: list[tuple[Callable[[], object], Sequence["RawTable"]]] = []


def ingest_assets(
    *,
    name: str,
    source: Callable[[], SourceSpec],  # lib.sources.<source>.spec
    tables: Sequence[RawTable],
    group: str,
    kinds: set[str],
    grain: str = "daily",  # the publication cadence: daily, weekdays, weekly or monthly partitions
) -> dg.AssetsDefinition:
    partitions_def = PARTITIONS[grain]
    DECLARED.append((source, tuple(tables)))
    check_specs = [spec for index, table in enumerate(tables) for spec in specs(table.key, table.all_checks(index == 0))]
    asset_specs = [
        dg.AssetSpec(t.key, description=t.description, group_name=group, kinds=kinds | {"duckdb"},
                     owners=["team:data-platform"], partitions_def=partitions_def,
                     freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(days=t.max_age_days)),
                     metadata={"table": t.table, "primary_key": ", ".join(t.primary_key),
                               "freshness_max_age_days": t.max_age_days, **t.metadata})
        for t in tables
    ]

    @dg.multi_asset(
        name=name,
        specs=asset_specs,
        check_specs=check_specs,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=NETWORK_RETRY,
        pool=WAREHOUSE_POOL,
    )
    def _ingest(context: dg.AssetExecutionContext, config: IngestRunConfig, warehouse: Warehouse, sources: SourceResource):
        spec = source()
        fetch_context = sources.fetch_context()
        window = run_window(context, fetch_context.today)
        with warehouse.get_connection() as conn:
            try:
                report, outcomes = checked_ingest(spec, tables, window, fetch_context, conn,
                                                  user_files=sources.mode == "files", allow_shrink=config.allow_shrink)
            except SourceError as exc:
                # only transient failures are worth the retry policy's next attempt
                raise dg.Failure(description=str(exc), allow_retries=exc.retryable) from None
        ranged = len(context.partition_keys) > 1
        materialized = [dg.MaterializeResult(asset_key=table.key,
                                             metadata=report_metadata(report, table.table, sources.mode, ranged),
                                             check_results=[to_result(o, table.key) for o in table_outcomes])
                        for table, table_outcomes in zip(tables, outcomes)]
        if ranged:
            context.log.info(range_detail(report))
        if report.gaps:
            context.log.warning(f"{spec.name} [{window.label}]: no rows for {', '.join(report.gaps)}")
        yield from materialized

    return _ingest
