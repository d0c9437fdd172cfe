"""raw/fred_observations: FRED/ALFRED series with every vintage."""

from cbi_platform.defs.ingest.common import ingest_asset
from cbi_platform.lib import quality

TABLE = "raw.fred_observations"
PRIMARY_KEY = ("series_id", "observation_date", "realtime_start")


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import fred

    return SourceSpec(name=fred.SOURCE, fetch=fred.fetch, parse=fred.parse,
                      tables=(TableSpec(TABLE, PRIMARY_KEY, "series_id"),), expected_keys=fred.expected_keys)


def _extra(conn, window, report):
    return [quality.finite_values(conn, TABLE, ["value"], window)]


fred_observations = ingest_asset(
    source=source,
    table=TABLE,
    description=(
        "FRED/ALFRED observations for every series in config/sources/fred_series.yaml, one row per "
        "(series, observation date, vintage). A partition holds the values *published or revised* that "
        "day (as_of_date = realtime_start); the first partition carries the history before it."
    ),
    group="ingest_macro",
    kinds={"python", "fred"},
    primary_key=PRIMARY_KEY,
    extra_checks=[("finite_values", "Values are finite numbers or NULL (FRED's '.')", True)],
    run_extra_checks=_extra,
)
