-- Every live forecast as it was published: forecasts.zl_predictions is replaced on each
-- publication, this archive keeps what was said on each day so that, once outcomes are known,
-- realised coverage can be measured (the forecast-drift sensor) and old forecasts audited.
CREATE TABLE IF NOT EXISTS forecasts.zl_forecast_archive (
    as_of_date    DATE    NOT NULL,
    horizon       VARCHAR NOT NULL,
    horizon_days  INTEGER NOT NULL,
    target_date   DATE    NOT NULL,
    q05 DOUBLE NOT NULL, q10 DOUBLE NOT NULL, q50 DOUBLE NOT NULL, q90 DOUBLE NOT NULL, q95 DOUBLE NOT NULL,
    last_price    DOUBLE  NOT NULL,
    model_version VARCHAR NOT NULL,
    data_mode     VARCHAR NOT NULL,
    published_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (as_of_date, horizon, model_version)
);
