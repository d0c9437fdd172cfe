"""raw/futures_ohlcv_1d and raw/futures_ohlcv_1h: Databento GLBX.MDP3 bars, continuous symbology."""

from cbi_platform.defs.ingest.common import ingest_asset
from cbi_platform.lib import quality

DAILY, HOURLY = "raw.futures_ohlcv_1d", "raw.futures_ohlcv_1h"
DAILY_KEY = ("symbol", "trade_date")
HOURLY_KEY = ("symbol", "ts_event")
OHLC_CHECK = ("ohlc_consistent", "high >= low, open/close inside the bar, prices > 0, volume >= 0", True)
PRICE_CHECK = ("finite_values", "Prices are finite", True)


def _source(schema: str, table: str, key):
    def build():
        from cbi_platform.lib.ingest import SourceSpec, TableSpec
        from cbi_platform.lib.sources import databento

        return SourceSpec(
            name=databento.SOURCE,
            fetch=lambda window, ctx: databento.fetch(window, ctx, schema),
            parse=databento.parse,
            tables=(TableSpec(table, key, "symbol"),),
            expected_keys=lambda ctx, window: databento.expected_keys(ctx, window, schema),
        )
    return build


def _bar_checks(table):
    def run(conn, window, report):
        return [quality.ohlc_consistent(conn, table, window),
                quality.finite_values(conn, table, ["open", "high", "low", "close"], window)]
    return run


futures_ohlcv_1d = ingest_asset(
    source=_source("ohlcv-1d", DAILY, DAILY_KEY),
    table=DAILY,
    description=(
        "Daily OHLCV of 60+ futures roots from Databento GLBX.MDP3, front (ROOT.c.0) and second "
        "(ROOT.c.1) month by calendar roll. instrument_id changes at each roll; the second month "
        "lets features adjust returns across rolls."
    ),
    group="ingest_market",
    kinds={"python", "databento"},
    primary_key=DAILY_KEY,
    extra_checks=[OHLC_CHECK, PRICE_CHECK],
    run_extra_checks=_bar_checks(DAILY),
)

futures_ohlcv_1h = ingest_asset(
    source=_source("ohlcv-1h", HOURLY, HOURLY_KEY),
    table=HOURLY,
    description=(
        "Hourly OHLCV bars of the front month (ROOT.c.0) for every root, from Databento GLBX.MDP3, "
        "partitioned by the UTC date of the bar; trade_date is the Globex session."
    ),
    group="ingest_market",
    kinds={"python", "databento"},
    primary_key=HOURLY_KEY,
    extra_checks=[OHLC_CHECK, PRICE_CHECK],
    run_extra_checks=_bar_checks(HOURLY),
)
