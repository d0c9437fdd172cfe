-- USDA WASDE balance sheets, long format: one row per printed value (cbi_platform/lib/sources/usda_wasde.py).
-- Every monthly release is kept, so a projection can be followed from report to report
-- (projection_month separates last month's and this month's column within one report).
-- Text columns that carry "no such dimension" hold '' (not NULL): they are part of the key.
CREATE TABLE IF NOT EXISTS raw.usda_wasde (
    release_date       DATE    NOT NULL,  -- day the report was published (ESMIS release_datetime)
    wasde_number       INTEGER,           -- WASDE-587 -> 587, from the page title
    report_month       DATE    NOT NULL,  -- the report's month, first day ("April 2019" -> 2019-04-01)
    sub_report         VARCHAR NOT NULL,  -- XML page element, e.g. sr15
    table_title        VARCHAR NOT NULL,  -- canonical title from config (typos and "(Cont'd.)" normalised)
    commodity          VARCHAR NOT NULL,  -- Soybeans, Soybean Oil, Soybean Meal, Corn, Wheat, Coarse Grains, ...
    region             VARCHAR NOT NULL,  -- United States, World, Total Foreign, Brazil, ... (footnote marks removed)
    market_year        VARCHAR NOT NULL,  -- '2018/19'
    market_year_status VARCHAR NOT NULL,  -- 'Proj.', 'Est.' or '' as printed
    projection_month   VARCHAR NOT NULL,  -- 'Mar'/'Apr' for the month columns of a projected year, else ''
    attribute          VARCHAR NOT NULL,  -- row label: 'Ending Stocks', 'Crushings', 'Exports', ... (words capitalised, footnotes removed)
    value              DOUBLE,            -- NULL for blanks, 'NA' and footnote-only cells; price ranges -> midpoint
    value_text         VARCHAR NOT NULL,  -- the cell as printed ('1,687', '5.10 - 5.20', '106.2 *')
    unit               VARCHAR NOT NULL,  -- 'Million Bushels', 'Million Metric Tons', '$/bu', ...
    as_of_date         DATE    NOT NULL,  -- = release_date
    ingested_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (release_date, sub_report, table_title, commodity, region, market_year, projection_month, attribute)
);

-- EIA open-data API v2 series, weekly and monthly (cbi_platform/lib/sources/eia.py).
CREATE TABLE IF NOT EXISTS raw.eia_series (
    series_id   VARCHAR NOT NULL,  -- WCESTUS1, M_EPOOBDSO_YIFBP_NUS_MMLB, ... (config/sources/eia.yaml)
    period      DATE    NOT NULL,  -- what the value describes: week ending Friday, or the month's first day
    frequency   VARCHAR NOT NULL,  -- 'weekly' | 'monthly'
    value       DOUBLE,            -- NULL where EIA withholds or lacks the value
    units       VARCHAR NOT NULL,  -- 'MBBL', 'MBBL/D', '%', 'MMLB'
    description VARCHAR NOT NULL,  -- EIA's series description
    as_of_date  DATE    NOT NULL,  -- release date: weekly period + 5 days (+1 after a federal holiday), monthly per config lag
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, period)
);
