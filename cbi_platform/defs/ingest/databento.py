"""Databento GLBX.MDP3: futures bars (daily, hourly), session statistics, options on futures."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib import quality
from cbi_platform.lib.quality import Check


def source_for(schema: str, tables: dict[str, tuple[str, ...]], key_column: str = "symbol", duplicates: str = "later_wins"):
    def build():
        from cbi_platform.lib.ingest import SourceSpec, TableSpec
        from cbi_platform.lib.sources import databento

        return SourceSpec(
            name=databento.SOURCE,
            fetch=lambda window, ctx: databento.fetch(window, ctx, schema),
            parse=databento.parse,
            tables=tuple(TableSpec(t, k, key_column if i == 0 else None, duplicates) for i, (t, k) in enumerate(tables.items())),
            expected_keys=lambda ctx, window: databento.expected_keys(ctx, window, schema),
        )
    return build


def ohlc_check(table: str, bar_id: str = "symbol") -> Check:
    return Check("ohlc_consistent", "high >= low, open/close inside the bar, prices > 0, volume >= 0",
                 lambda w: quality.ohlc_consistent(w.conn, table, w.window, bar_id=bar_id))


def bar_checks(table: str) -> list[Check]:
    return [ohlc_check(table), Check("finite_values", "Prices are finite", lambda w: quality.finite_values(
        w.conn, table, ["open", "high", "low", "close"], w.window))]


# a market's history may come as several vendor files (files mode): overlapping days must agree
DAILY_BARS_SOURCE = source_for("ohlcv-1d", {"raw.futures_ohlcv_1d": ("symbol", "trade_date")}, duplicates="error")

futures_daily = ingest_assets(
    name="databento_ohlcv_1d",
    source=DAILY_BARS_SOURCE,
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        "raw.futures_ohlcv_1d",
        "Daily OHLCV of 60+ futures roots from Databento GLBX.MDP3, front (ROOT.c.0) and second (ROOT.c.1) month "
        "by calendar roll. instrument_id changes at each roll; the second month lets features adjust returns "
        "across rolls.",
        ("symbol", "trade_date"), max_age_days=4, checks=bar_checks("raw.futures_ohlcv_1d"),
    )],
)

futures_hourly = ingest_assets(
    name="databento_ohlcv_1h",
    source=source_for("ohlcv-1h", {"raw.futures_ohlcv_1h": ("symbol", "ts_event")}),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        "raw.futures_ohlcv_1h",
        "Hourly OHLCV bars of the front month (ROOT.c.0) for every root, from Databento GLBX.MDP3, partitioned by "
        "the UTC date of the bar; trade_date is the Globex session it belongs to.",
        ("symbol", "ts_event"), max_age_days=4, checks=bar_checks("raw.futures_ohlcv_1h"),
    )],
)

futures_statistics = ingest_assets(
    name="databento_statistics",
    source=source_for("statistics", {"raw.futures_statistics_1d": ("symbol", "trade_date")}),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[RawTable(
        "raw.futures_statistics_1d",
        "Each session's settlement price, cleared volume and open interest (Databento statistics schema), front "
        "and second month, published the next morning: as_of_date is the publication, trade_date the session.",
        ("symbol", "trade_date"), max_age_days=4,
        checks=[Check("non_negative", "Open interest and cleared volume are >= 0; settlement prices > 0",
                      lambda w: quality.non_negative(w.conn, "raw.futures_statistics_1d", ["open_interest", "cleared_volume"],
                                                     ["settlement_price"], w.window))],
    )],
)

options = ingest_assets(
    name="databento_options",
    source=source_for("options", {"raw.options_ohlcv_1d": ("instrument_id", "trade_date"),
                               "raw.options_definitions": ("instrument_id", "as_of_date")}, key_column="parent"),
    group="ingest_market",
    kinds={"python", "databento"},
    tables=[
        RawTable(
            "raw.options_ohlcv_1d",
            "Daily OHLCV of options on futures for the roots flagged `options` in symbols.yaml (ZL), by Databento "
            "parent symbology (ZL.OPT); premiums in the futures' price units.",
            ("instrument_id", "trade_date"), max_age_days=4, checks=[ohlc_check("raw.options_ohlcv_1d", bar_id="instrument_id")],
        ),
        RawTable(
            "raw.options_definitions",
            "Instrument definitions of those options: raw symbol, underlying futures contract, call/put, strike and "
            "expiration; what gives each option bar its meaning.",
            ("instrument_id", "as_of_date"), max_age_days=4,
        ),
    ],
)

DATABENTO_ASSETS = [futures_daily, futures_hourly, futures_statistics, options]
