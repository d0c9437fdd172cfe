-- EPA RIN prices: every row of EPA's "RIN Price Data" export (weekly, per D code, RIN year, QAP
-- service type and transfer year). To get one weekly price per D code, aggregate: the export has
-- no volumes to weight by. as_of_date = week_start + publication_lag_days (config/sources/epa_rin.yaml).
CREATE TABLE IF NOT EXISTS raw.epa_rin_prices (
    week_start       DATE      NOT NULL,   -- Monday the transfer week starts ("Transfer Date by Week")
    d_code           VARCHAR   NOT NULL,   -- RFS fuel category: D3, D4, D5, D6 or D7
    rin_year         INTEGER   NOT NULL,   -- vintage (generation) year of the RINs traded
    qap_service_type VARCHAR   NOT NULL,   -- 'Q-RIN' (QAP-verified) or 'Unverified'
    transfer_year    INTEGER   NOT NULL,   -- calendar year of the transfers; a week spanning New Year has rows for both
    price            DOUBLE    NOT NULL,   -- USD per RIN
    as_of_date       DATE      NOT NULL,   -- when the price counts as public: week_start + publication lag
    ingested_at      TIMESTAMP NOT NULL,   -- when this row was written
    PRIMARY KEY (week_start, d_code, rin_year, qap_service_type, transfer_year)
);

-- USDA FAS Export Sales Reporting: one row per commodity, marketing year, destination and week.
-- Quantities are in the unit of unit_id (1 = metric tons); sales figures can be negative (net
-- cancellations). as_of_date = the report's release (Thursday after the week, Friday in holiday weeks).
CREATE TABLE IF NOT EXISTS raw.usda_export_sales (
    commodity_code              INTEGER   NOT NULL,   -- ESR commodity (801 soybeans, 901 meal, 902 oil, 401 corn, 107 all wheat)
    market_year                 INTEGER   NOT NULL,   -- the API's marketYear: the year the marketing year ends in
    country_code                INTEGER   NOT NULL,   -- ESR destination (5700 China, 2 unknown destinations)
    week_ending                 DATE      NOT NULL,   -- last day (Thursday) of the reporting week
    weekly_exports              DOUBLE,               -- shipped this week, current marketing year
    accumulated_exports         DOUBLE,               -- shipped since the marketing year started
    outstanding_sales           DOUBLE,               -- sold, not yet shipped, current marketing year
    gross_new_sales             DOUBLE,               -- new sales this week before cancellations
    current_my_net_sales        DOUBLE,               -- net sales this week, current marketing year
    current_my_total_commitment DOUBLE,               -- accumulated exports + outstanding sales
    next_my_outstanding_sales   DOUBLE,               -- open sales for the next marketing year
    next_my_net_sales           DOUBLE,               -- net sales this week for the next marketing year
    unit_id                     INTEGER   NOT NULL,   -- unit of the quantities (raw.usda_esr_units)
    as_of_date                  DATE      NOT NULL,   -- release date of the weekly report
    ingested_at                 TIMESTAMP NOT NULL,   -- when this row was written
    PRIMARY KEY (commodity_code, market_year, country_code, week_ending)
);

-- ESR reference lists, a snapshot per fetch window (as_of_date = the window's last day).
CREATE TABLE IF NOT EXISTS raw.usda_esr_commodities (
    commodity_code INTEGER   NOT NULL,   -- ESR commodity code
    commodity_name VARCHAR   NOT NULL,   -- e.g. 'Soybean Oil'
    unit_id        INTEGER   NOT NULL,   -- unit its quantities are reported in
    as_of_date     DATE      NOT NULL,   -- snapshot date
    ingested_at    TIMESTAMP NOT NULL,   -- when this row was written
    PRIMARY KEY (commodity_code, as_of_date)
);

CREATE TABLE IF NOT EXISTS raw.usda_esr_countries (
    country_code        INTEGER   NOT NULL,   -- ESR destination code
    country_name        VARCHAR   NOT NULL,   -- short name, padding trimmed ('CHINA')
    country_description VARCHAR   NOT NULL,   -- full name, padding trimmed ('CHINA, PEOPLES REPUBLIC OF')
    region_id           INTEGER   NOT NULL,   -- ESR region
    genc_code           VARCHAR,              -- GENC country code; NULL where FAS has none
    as_of_date          DATE      NOT NULL,   -- snapshot date
    ingested_at         TIMESTAMP NOT NULL,   -- when this row was written
    PRIMARY KEY (country_code, as_of_date)
);

CREATE TABLE IF NOT EXISTS raw.usda_esr_units (
    unit_id     INTEGER   NOT NULL,   -- unit of measure id
    unit_name   VARCHAR   NOT NULL,   -- 'Metric Tons', 'Running Bales', ... (the API's unitNames)
    as_of_date  DATE      NOT NULL,   -- snapshot date
    ingested_at TIMESTAMP NOT NULL,   -- when this row was written
    PRIMARY KEY (unit_id, as_of_date)
);
