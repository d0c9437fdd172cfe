-- FRED / ALFRED observations: one row per (series, observation date, vintage).
-- as_of_date = realtime_start: the day the value became public. realtime_end is as reported at
-- ingest time; point-in-time queries use the latest realtime_start <= D instead, which stays
-- right when a later revision arrives.
CREATE TABLE IF NOT EXISTS raw.fred_observations (
    series_id        VARCHAR NOT NULL,
    observation_date DATE    NOT NULL,
    realtime_start   DATE    NOT NULL,
    realtime_end     DATE    NOT NULL,
    value            DOUBLE,              -- NULL where FRED reports "."
    vintage_source   VARCHAR NOT NULL,    -- 'alfred', or 'estimated' (CSV files: release rule)
    as_of_date       DATE    NOT NULL,
    ingested_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, observation_date, realtime_start)
);

-- Daily futures bars, continuous front (rank 0) and second (rank 1) month.
-- instrument_id changes at a roll; NULL for vendor CSV files (files mode).
CREATE TABLE IF NOT EXISTS raw.futures_ohlcv_1d (
    symbol                 VARCHAR  NOT NULL,   -- ZL.c.0
    root                   VARCHAR  NOT NULL,   -- ZL
    rank                   TINYINT,             -- 0 front, 1 second month
    trade_date             DATE     NOT NULL,
    instrument_id          BIGINT,
    open                   DOUBLE,
    high                   DOUBLE,
    low                    DOUBLE,
    close                  DOUBLE   NOT NULL,   -- last trade (DBN) or settlement (vendor CSV)
    settle                 DOUBLE,              -- vendor CSV only
    change                 DOUBLE,              -- vendor CSV only: settle change of the same contract
    volume                 BIGINT   NOT NULL,
    prev_day_open_interest DOUBLE,              -- vendor CSV only
    as_of_date             DATE     NOT NULL,   -- = trade_date
    ingested_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (symbol, trade_date)
);

-- Hourly futures bars, front month. ts_event is the bar's start (UTC); trade_date the Globex
-- session it belongs to; as_of_date the UTC date of ts_event (the partition).
CREATE TABLE IF NOT EXISTS raw.futures_ohlcv_1h (
    symbol        VARCHAR   NOT NULL,
    root          VARCHAR   NOT NULL,
    rank          TINYINT,
    ts_event      TIMESTAMP NOT NULL,
    trade_date    DATE      NOT NULL,
    instrument_id BIGINT,
    open          DOUBLE,
    high          DOUBLE,
    low           DOUBLE,
    close         DOUBLE    NOT NULL,
    volume        BIGINT    NOT NULL,
    as_of_date    DATE      NOT NULL,
    ingested_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (symbol, ts_event)
);
