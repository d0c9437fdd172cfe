"""raw/cftc_cot: CFTC Commitments of Traders, disaggregated futures only."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib.quality import Check, CheckOutcome
from cbi_platform.lib.sources import cftc as cftc_source


def released_in(window) -> bool:
    from cbi_platform.lib.sources import cftc

    return bool(cftc.releases_in(window))


def balanced(written) -> CheckOutcome:
    from cbi_platform.lib.sources import cftc

    window = written.window
    frame = written.conn.execute(f"SELECT * FROM {written.table.table} WHERE as_of_date >= ? AND as_of_date < ?",
                                 [window.start, window.end]).df()
    violations = cftc.balance_violations(frame) if len(frame) else frame
    return CheckOutcome("positions_balance", len(violations) == 0,
                        "longs and shorts of every trader category (non-reportables included) each sum to open interest",
                        metadata={"unbalanced_reports": int(len(violations))})


cftc_cot = ingest_assets(
    name="cftc",
    source=cftc_source.spec,
    group="ingest_positioning",
    kinds={"python", "cftc"},
    grain="weekly",
    tables=[RawTable(
        cftc_source.TABLE_SPEC,
        "CFTC Commitments of Traders (disaggregated, futures only) for the physical-commodity roots in symbols.yaml, "
        "keyed by CFTC contract market code (names change over the years): producer/merchant, swap dealer, managed "
        "money, other reportables and non-reportables, long/short/spread, and open interest. Positions are as of the "
        "Tuesday report date; as_of_date is the Friday release (next business day after a holiday).",
        max_age_days=10, publication_expected=released_in,
        checks=[Check("positions_balance", "Longs and shorts of all categories each sum to open interest", balanced)],
    )],
)
