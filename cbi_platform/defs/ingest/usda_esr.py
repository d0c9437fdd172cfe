"""raw/usda_export_sales (+ reference tables): USDA FAS Export Sales Reporting."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets

EXPORTS = "raw.usda_export_sales"


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import usda_esr

    keys = usda_esr.PRIMARY_KEYS
    return SourceSpec(
        usda_esr.SOURCE, usda_esr.fetch, usda_esr.parse,
        tuple(TableSpec(table, keys[table], "commodity_code" if table == EXPORTS else None) for table in usda_esr.TABLES),
        usda_esr.expected_keys,
    )


def released_in(window) -> bool:
    from cbi_platform.lib.sources import usda_esr

    return bool(usda_esr.weeks_released_in(window))


def _reference(table: str, what: str, key: tuple[str, ...]) -> RawTable:
    return RawTable(table, f"USDA FAS ESR reference list of {what}, a snapshot per ingestion window.", key,
                    max_age_days=10, publication_expected=lambda window: True)


usda_export_sales = ingest_assets(
    name="usda_esr",
    source=source,
    group="ingest_ags",
    kinds={"python", "usda"},
    tables=[
        RawTable(
            EXPORTS,
            "USDA FAS weekly export sales by commodity (soybeans, meal, oil, corn, wheat), marketing year and "
            "destination (China separately): net sales, exports, outstanding sales, next-year sales. as_of_date is "
            "the Thursday release (the next business day in holiday weeks).",
            ("commodity_code", "market_year", "country_code", "week_ending"), max_age_days=10,
            publication_expected=released_in,
        ),
        _reference("raw.usda_esr_commodities", "commodities", ("commodity_code", "as_of_date")),
        _reference("raw.usda_esr_countries", "countries", ("country_code", "as_of_date")),
        _reference("raw.usda_esr_units", "units of measure", ("unit_id", "as_of_date")),
    ],
)
