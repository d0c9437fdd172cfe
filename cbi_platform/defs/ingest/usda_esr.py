"""raw/usda_export_sales (+ reference tables): USDA FAS Export Sales Reporting."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib.ingest import TableSpec
from cbi_platform.lib.sources import usda_esr as esr_source


def released_in(window) -> bool:
    from cbi_platform.lib.sources import usda_esr

    return bool(usda_esr.weeks_released_in(window))


def _reference(table: TableSpec, what: str) -> RawTable:
    return RawTable(table, f"USDA FAS ESR reference list of {what}, a snapshot per ingestion window.",
                    max_age_days=10, publication_expected=lambda window: True)


usda_export_sales = ingest_assets(
    name="usda_esr",
    source=esr_source.spec,
    group="ingest_ags",
    kinds={"python", "usda"},
    grain="weekly",
    tables=[
        RawTable(
            esr_source.EXPORTS,
            "USDA FAS weekly export sales by commodity (soybeans, meal, oil, corn, wheat), marketing year and "
            "destination (China separately): net sales, exports, outstanding sales, next-year sales. as_of_date is "
            "the Thursday release (the next business day in holiday weeks).",
            max_age_days=10,
            publication_expected=released_in,
        ),
        _reference(esr_source.COMMODITIES, "commodities"),
        _reference(esr_source.COUNTRIES, "countries"),
        _reference(esr_source.UNITS, "units of measure"),
    ],
)
