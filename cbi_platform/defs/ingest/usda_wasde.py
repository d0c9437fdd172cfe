"""raw/usda_wasde: USDA World Agricultural Supply and Demand Estimates, monthly."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets

TABLE = "raw.usda_wasde"


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import usda_wasde

    return SourceSpec(usda_wasde.SOURCE, usda_wasde.fetch, usda_wasde.parse,
                      (TableSpec(TABLE, usda_wasde.PRIMARY_KEY, usda_wasde.KEY_COLUMN),), usda_wasde.expected_keys)


usda_wasde = ingest_assets(
    name="usda_wasde",
    source=source,
    group="ingest_ags",
    kinds={"python", "usda", "xml"},
    tables=[RawTable(
        TABLE,
        "USDA WASDE balance sheets from each monthly report's XML (found through the ESMIS release catalogue): the "
        "soybean complex, corn and wheat, US and world, per market year and projection month, one row per printed "
        "value; as_of_date is the release date.",
        ("release_date", "sub_report", "table_title", "commodity", "region", "market_year", "projection_month",
         "attribute"),
        max_age_days=40,
        # a report every month: any window of five weeks holds one
        publication_expected=lambda window: (window.end - window.start).days >= 35,
    )],
)
