"""raw/epa_rin_prices: EPA EMTS RIN prices (D3-D7), weekly."""

import datetime as dt

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.quality import Check

TABLE = "raw.epa_rin_prices"


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import epa_rin

    return SourceSpec(epa_rin.SOURCE, epa_rin.fetch, epa_rin.parse, (TableSpec(TABLE, epa_rin.PRIMARY_KEY, "d_code"),),
                      epa_rin.expected_keys)


def published_in(window) -> bool:
    """A week's prices become public `publication_lag_days` after its Monday (the parser's own setting)."""
    from cbi_platform.lib.sources import epa_rin

    lag = dt.timedelta(days=epa_rin.load_config(SETTINGS.config_dir).publication_lag_days)
    return any((day - lag).weekday() == 0 for day in window.days())


epa_rin_prices = ingest_assets(
    name="epa_rin",
    source=source,
    group="ingest_biofuel",
    kinds={"python", "csv"},
    tables=[RawTable(
        TABLE,
        "EPA RIN prices from the EMTS 'RIN Price Data' export: every row (week, D code, RIN year, QAP type, transfer "
        "year) with its price in USD per RIN. EPA offers no API: live mode downloads the export from the URL in "
        "config/sources/epa_rin.yaml; as_of_date = week start + the configured publication lag.",
        ("week_start", "d_code", "rin_year", "qap_service_type", "transfer_year"), max_age_days=21,
        publication_expected=published_in,
        checks=[Check("non_negative", "RIN prices are > 0", lambda w: quality.non_negative(w.conn, TABLE, [], ["price"], w.window))],
    )],
)
