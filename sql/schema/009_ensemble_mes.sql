-- Ensemble weights per horizon: the greedy weights (kept for display even when the stacker wins).
CREATE TABLE IF NOT EXISTS training.ensemble_weights (
    version   VARCHAR NOT NULL,
    horizon   VARCHAR NOT NULL,
    member    VARCHAR NOT NULL,   -- zl_main, bucket_crush, climatology, ...
    weight    DOUBLE  NOT NULL,
    method    VARCHAR NOT NULL,   -- the method kept for the horizon: greedy or stacked
    honest_pinball DOUBLE,        -- the member's out-of-fold pinball on the ensemble's evaluation dates
    PRIMARY KEY (version, horizon, member)
);

-- MES hourly forecasts of every root: P10/P50/P90 of the price `step` trading hours ahead.
CREATE TABLE IF NOT EXISTS forecasts.mes_predictions (
    item_id       VARCHAR   NOT NULL,   -- futures root
    as_of         TIMESTAMP NOT NULL,   -- the last bar the forecast saw (UTC)
    step          INTEGER   NOT NULL,   -- trading hours ahead
    bar_time      TIMESTAMP NOT NULL,   -- the bar being forecast (UTC)
    last_close    DOUBLE    NOT NULL,
    p10_price     DOUBLE    NOT NULL,
    p50_price     DOUBLE    NOT NULL,
    p90_price     DOUBLE    NOT NULL,
    model         VARCHAR   NOT NULL,   -- the AutoGluon model that forecast (best on validation)
    model_version VARCHAR   NOT NULL,
    data_mode     VARCHAR   NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (item_id, step)
);
