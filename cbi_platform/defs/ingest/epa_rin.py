"""raw/epa_rin_prices: EPA EMTS RIN prices (D3-D7), weekly."""

import datetime as dt

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.quality import Check
from cbi_platform.lib.sources import epa_rin as epa_source


def published_in(window) -> bool:
    """A week's prices become public `publication_lag_days` after its Monday (the parser's own setting)."""
    from cbi_platform.lib.sources import epa_rin

    lag = dt.timedelta(days=epa_rin.load_config(SETTINGS.config_dir).publication_lag_days)
    return any((day - lag).weekday() == 0 for day in window.days())


epa_rin_prices = ingest_assets(
    name="epa_rin",
    source=epa_source.spec,
    group="ingest_biofuel",
    kinds={"python", "csv"},
    grain="weekly",
    tables=[RawTable(
        epa_source.TABLE_SPEC,
        "EPA RIN prices from the EMTS 'RIN Price Data' export: every row (week, D code, RIN year, QAP type, transfer "
        "year) with its price in USD per RIN. EPA offers no API: live mode downloads the export from the URL in "
        "config/sources/epa_rin.yaml; as_of_date = week start + the configured publication lag.",
        max_age_days=21,
        publication_expected=published_in,
        checks=[Check("non_negative", "RIN prices are > 0",
                      lambda w: quality.non_negative(w.conn, w.table.table, [], ["price"], w.window))],
    )],
)
