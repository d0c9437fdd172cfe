-- Settlement price, cleared volume and open interest of each session (Databento `statistics`),
-- published the next morning: as_of_date is the publication date, trade_date the session.
CREATE TABLE IF NOT EXISTS raw.futures_statistics_1d (
    symbol           VARCHAR NOT NULL,   -- ZL.c.0 / ZL.c.1
    root             VARCHAR NOT NULL,
    rank             TINYINT,            -- 0 front, 1 second month
    trade_date       DATE    NOT NULL,   -- the session the figures describe
    instrument_id    BIGINT  NOT NULL,
    settlement_price DOUBLE,
    cleared_volume   BIGINT,
    open_interest    BIGINT,
    as_of_date       DATE    NOT NULL,   -- publication date
    ingested_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (symbol, trade_date)
);

-- Daily OHLCV of options on futures (parent symbology ROOT.OPT); what an instrument id is
-- comes from raw.options_definitions.
CREATE TABLE IF NOT EXISTS raw.options_ohlcv_1d (
    parent        VARCHAR NOT NULL,   -- ZL.OPT
    instrument_id BIGINT  NOT NULL,
    trade_date    DATE    NOT NULL,
    open          DOUBLE,
    high          DOUBLE,
    low           DOUBLE,
    close         DOUBLE  NOT NULL,   -- premium, in the futures' price units
    volume        BIGINT  NOT NULL,
    as_of_date    DATE    NOT NULL,   -- = trade_date
    ingested_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (instrument_id, trade_date)
);

-- Option instrument definitions, as received (one row per instrument and day it was sent).
CREATE TABLE IF NOT EXISTS raw.options_definitions (
    parent        VARCHAR NOT NULL,
    instrument_id BIGINT  NOT NULL,
    raw_symbol    VARCHAR NOT NULL,   -- OZLK4 C4550
    underlying    VARCHAR NOT NULL,   -- the futures contract, ZLK4
    option_type   VARCHAR NOT NULL,   -- C or P
    strike        DOUBLE  NOT NULL,
    expiration    DATE    NOT NULL,
    as_of_date    DATE    NOT NULL,   -- the day the definition was received
    ingested_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (instrument_id, as_of_date)
);

-- FRED series metadata as seen on as_of_date (a snapshot per ingestion window).
CREATE TABLE IF NOT EXISTS raw.fred_series (
    series_id           VARCHAR NOT NULL,
    title               VARCHAR,
    frequency           VARCHAR,   -- D, W, M, Q
    units               VARCHAR,
    seasonal_adjustment VARCHAR,
    observation_start   DATE,
    observation_end     DATE,
    last_updated        VARCHAR,   -- as FRED prints it, with its UTC offset
    as_of_date          DATE    NOT NULL,
    ingested_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, as_of_date)
);
