"""raw/usda_wasde: USDA World Agricultural Supply and Demand Estimates, monthly."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib.sources import usda_wasde as wasde_source

usda_wasde = ingest_assets(
    name="usda_wasde",
    source=wasde_source.spec,
    group="ingest_ags",
    kinds={"python", "usda", "xml"},
    grain="monthly",
    tables=[RawTable(
        wasde_source.TABLE_SPEC,
        "USDA WASDE balance sheets from each monthly report's XML (found through the ESMIS release catalogue): the "
        "soybean complex, corn and wheat, US and world, per market year and projection month, one row per printed "
        "value; as_of_date is the release date.",
        max_age_days=40,
        # a month's window from its 14th on, unless USDA cancelled the month's report
        publication_expected=lambda window: wasde_source.release_due_in(window, wasde_source.load_config(SETTINGS.config_dir)),
    )],
)
