"""raw/fred_observations and raw/fred_series: FRED/ALFRED series with every vintage."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib import quality
from cbi_platform.lib.quality import Check

OBSERVATIONS, SERIES = "raw.fred_observations", "raw.fred_series"


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import fred

    return SourceSpec(
        name=fred.SOURCE, fetch=fred.fetch, parse=fred.parse, expected_keys=fred.expected_keys,
        tables=(TableSpec(OBSERVATIONS, ("series_id", "observation_date", "realtime_start"), "series_id"),
                TableSpec(SERIES, ("series_id", "as_of_date"))),
    )


fred = ingest_assets(
    name="fred",
    source=source,
    group="ingest_macro",
    kinds={"python", "fred"},
    tables=[
        RawTable(
            OBSERVATIONS,
            "FRED/ALFRED observations for every series in config/sources/fred_series.yaml, one row per (series, "
            "observation date, vintage). A partition holds the values *published or revised* that day "
            "(as_of_date = realtime_start); the first partition carries the history before it.",
            ("series_id", "observation_date", "realtime_start"),
            max_age_days=5,
            checks=[Check("finite_values", "Values are finite numbers or NULL (FRED's '.')",
                          lambda w: quality.finite_values(w.conn, OBSERVATIONS, ["value"], w.window))],
        ),
        RawTable(
            SERIES,
            "FRED series metadata (title, frequency, units, seasonal adjustment, last update) as seen when each "
            "window was ingested.",
            ("series_id", "as_of_date"),
            max_age_days=7,
            publication_expected=lambda window: True,
        ),
    ],
)
