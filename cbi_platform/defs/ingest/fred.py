"""raw/fred_observations and raw/fred_series: FRED/ALFRED series with every vintage."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib import calendar, quality
from cbi_platform.lib.quality import Check
from cbi_platform.lib.sources import fred as fred_source

fred = ingest_assets(
    name="fred",
    grain="weekdays",
    source=fred_source.spec,
    group="ingest_macro",
    kinds={"python", "fred"},
    tables=[
        RawTable(
            fred_source.OBSERVATIONS,
            "FRED/ALFRED observations for every series in config/sources/fred_series.yaml, one row per (series, "
            "observation date, vintage). A partition holds the values *published or revised* that day "
            "(as_of_date = realtime_start); the first partition carries the history before it.",
            max_age_days=5, publication_expected=calendar.business_day_in,
            checks=[Check("finite_values", "Values are finite numbers or NULL (FRED's '.')",
                          lambda w: quality.finite_values(w.conn, w.table.table, ["value"], w.window))],
        ),
        RawTable(
            fred_source.SERIES,
            "FRED series metadata (title, frequency, units, seasonal adjustment, last update) as seen when each "
            "window was ingested.",
            max_age_days=7,
            publication_expected=lambda window: True,
        ),
    ],
)
