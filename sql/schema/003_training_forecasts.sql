-- Every trained model version; forecasts reference (model_asset, version).
CREATE TABLE IF NOT EXISTS training.model_registry (
    model_asset        VARCHAR   NOT NULL,   -- e.g. models/zl_main
    version            VARCHAR   NOT NULL,
    horizon            VARCHAR   NOT NULL,   -- 1w, 1m, 3m, 6m (or 'all')
    trained_at         TIMESTAMP NOT NULL,
    autogluon_version  VARCHAR,
    profile            VARCHAR   NOT NULL,
    data_fingerprint   VARCHAR   NOT NULL,
    train_rows         BIGINT,
    train_end          DATE,
    path               VARCHAR   NOT NULL,
    data_mode          VARCHAR   NOT NULL,
    metrics            JSON,
    PRIMARY KEY (model_asset, version, horizon)
);

-- Out-of-fold (walk-forward) predictions of every model, the ground truth for skill figures,
-- calibration and the ensemble.
CREATE TABLE IF NOT EXISTS training.oof_predictions (
    model         VARCHAR NOT NULL,   -- zl_main, bucket_crush, climatology, ...
    horizon       VARCHAR NOT NULL,
    as_of_date    DATE    NOT NULL,
    fold          INTEGER NOT NULL,
    q05 DOUBLE, q10 DOUBLE, q50 DOUBLE, q90 DOUBLE, q95 DOUBLE,
    realised      DOUBLE,             -- the target (forward log return)
    model_version VARCHAR NOT NULL,
    PRIMARY KEY (model, horizon, as_of_date)
);

-- Published ZL forecasts of forward log returns. kind = 'live' (the latest as_of_date, from the
-- final model) or 'backtest' (walk-forward: each made by a model trained before that date).
CREATE TABLE IF NOT EXISTS forecasts.zl_predictions (
    as_of_date    DATE    NOT NULL,
    horizon       VARCHAR NOT NULL,
    horizon_days  INTEGER NOT NULL,
    target_date   DATE    NOT NULL,   -- the trading day the horizon ends on (business-day estimate for live rows)
    model         VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    last_price    DOUBLE  NOT NULL,   -- ZL front settle on as_of_date (cents/lb)
    q05 DOUBLE NOT NULL, q10 DOUBLE NOT NULL, q50 DOUBLE NOT NULL, q90 DOUBLE NOT NULL, q95 DOUBLE NOT NULL,
    p10_price DOUBLE NOT NULL, p50_price DOUBLE NOT NULL, p90_price DOUBLE NOT NULL,
    model_version VARCHAR NOT NULL,
    data_mode     VARCHAR NOT NULL,   -- 'sample' forecasts are simulated-world forecasts
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (as_of_date, horizon, model)
);

-- Monte Carlo scenarios of the latest forecast (one row per scenario and horizon).
CREATE TABLE IF NOT EXISTS forecasts.monte_carlo_scenarios (
    as_of_date  DATE    NOT NULL,
    horizon     VARCHAR NOT NULL,
    scenario    INTEGER NOT NULL,
    log_return  DOUBLE  NOT NULL,
    price       DOUBLE  NOT NULL,
    model_version VARCHAR NOT NULL,
    PRIMARY KEY (as_of_date, horizon, scenario)
);

-- VaR / CVaR per as_of_date and horizon (losses as positive numbers).
CREATE TABLE IF NOT EXISTS forecasts.risk_metrics (
    as_of_date        DATE    NOT NULL,
    horizon           VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,   -- live or backtest, as in zl_predictions
    scenarios         INTEGER NOT NULL,
    var95_return      DOUBLE NOT NULL,
    var99_return      DOUBLE NOT NULL,
    cvar95_return     DOUBLE NOT NULL,
    cvar99_return     DOUBLE NOT NULL,
    var95_usd         DOUBLE NOT NULL,    -- per contract
    var99_usd         DOUBLE NOT NULL,
    cvar95_usd        DOUBLE NOT NULL,
    cvar99_usd        DOUBLE NOT NULL,
    last_price        DOUBLE NOT NULL,
    tail_assumption   VARCHAR NOT NULL,
    model_version     VARCHAR NOT NULL,
    data_mode         VARCHAR NOT NULL,
    PRIMARY KEY (as_of_date, horizon)
);
