"""Databento GLBX.MDP3: futures bars (daily, hourly), session statistics, options on futures."""

from functools import partial

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.config import load_sources
from cbi_platform.lib.quality import Check
from cbi_platform.lib.sources import databento


def published_in(schema: str):
    """A window must hold the schema's records when one of its symbols' markets trades in it (CME
    sessions; ZL's options not on the grain markets' own holidays)."""
    return lambda window: bool(databento.expected_symbols(load_sources(SETTINGS.config_dir).symbols, window, schema))


def ohlc_check(table: str, bar_id: str = "symbol") -> Check:
    return Check("ohlc_consistent", "high >= low, open/close inside the bar, prices > 0, volume >= 0",
                 lambda w: quality.ohlc_consistent(w.conn, table, w.window, bar_id=bar_id))


def bar_checks(table: str) -> list[Check]:
    return [ohlc_check(table), Check("finite_values", "Prices are finite", lambda w: quality.finite_values(
        w.conn, table, ["open", "high", "low", "close"], w.window))]



futures_daily = ingest_assets(
    name="databento_ohlcv_1d",
    grain="weekdays",
    source=partial(databento.spec, "ohlcv-1d"),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        databento.DAILY_BARS,
        "Daily OHLCV of 60+ futures roots from Databento GLBX.MDP3, front (ROOT.c.0) and second (ROOT.c.1) month "
        "by calendar roll. instrument_id changes at each roll; the second month lets features adjust returns "
        "across rolls.",
        max_age_days=4, publication_expected=published_in("ohlcv-1d"), checks=bar_checks(databento.DAILY_BARS.name),
    )],
)

futures_hourly = ingest_assets(
    name="databento_ohlcv_1h",
    source=partial(databento.spec, "ohlcv-1h"),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        databento.HOURLY_BARS,
        "Hourly OHLCV bars of the front month (ROOT.c.0) for every root, from Databento GLBX.MDP3, partitioned by "
        "the UTC date of the bar; trade_date is the Globex session it belongs to.",
        max_age_days=4, publication_expected=published_in("ohlcv-1h"), checks=bar_checks(databento.HOURLY_BARS.name),
    )],
)

futures_statistics = ingest_assets(
    name="databento_statistics",
    grain="weekdays",
    source=partial(databento.spec, "statistics"),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        databento.STATISTICS,
        "Each session's settlement price, cleared volume and open interest (Databento statistics schema), front "
        "and second month, published the next morning: as_of_date is the publication, trade_date the session.",
        max_age_days=4, publication_expected=published_in("statistics"),
        checks=[Check("non_negative", "Open interest and cleared volume are >= 0; settlement prices > 0",
                      lambda w: quality.non_negative(w.conn, w.table.table, ["open_interest", "cleared_volume"],
                                                     ["settlement_price"], w.window))],
    )],
)

options = ingest_assets(
    name="databento_options",
    grain="weekdays",
    source=partial(databento.spec, "options"),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[
        RawTable(
            databento.OPTION_BARS,
            "Daily OHLCV of options on futures for the roots flagged `options` in symbols.yaml (ZL), by Databento "
            "parent symbology (ZL.OPT); premiums in the futures' price units.",
            max_age_days=4, publication_expected=published_in("options"),
            checks=[ohlc_check(databento.OPTION_BARS.name, bar_id="instrument_id")],
        ),
        RawTable(
            databento.OPTION_DEFINITIONS,
            "Instrument definitions of those options: raw symbol, underlying futures contract, call/put, strike and "
            "expiration; what gives each option bar its meaning.",
            max_age_days=4, publication_expected=published_in("options"),
        ),
    ],
)

DATABENTO_ASSETS = [futures_daily, futures_hourly, futures_statistics, options]
