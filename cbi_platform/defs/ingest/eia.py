"""raw/eia_series: EIA open-data API v2, weekly petroleum and monthly biofuel series."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib import quality
from cbi_platform.lib.quality import Check
from cbi_platform.lib.sources import eia as eia_source

eia_series = ingest_assets(
    name="eia",
    source=eia_source.spec,
    group="ingest_energy",
    kinds={"python", "eia"},
    grain="weekly",
    tables=[RawTable(
        eia_source.TABLE_SPEC,
        "EIA series for the Energy and Biofuel buckets: weekly U.S. crude, distillate and gasoline stocks and refinery "
        "runs (Weekly Petroleum Status Report), monthly biodiesel and renewable diesel production and soybean oil used "
        "as biofuel feedstock; as_of_date is the release date.",
        max_age_days=10,
        publication_expected=lambda window: (window.end - window.start).days >= 7,
        checks=[Check("finite_values", "Values are finite numbers or NULL (withheld)",
                      lambda w: quality.finite_values(w.conn, w.table.table, ["value"], w.window))],
    )],
)
