-- What the forecasts would have earned (lib/risk/strategy.py): the daily position and P&L, in
-- dollars per ZL contract after costs, of the documented rule per horizon, on the ensemble's
-- walk-forward forecasts ('ensemble') and on climatology's ('climatology': should earn about
-- nothing). Buy-and-hold on the same days is in the asset's summary.
CREATE TABLE IF NOT EXISTS forecasts.zl_strategy_daily (
    horizon       VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,
    as_of_date    DATE    NOT NULL,
    position      DOUBLE  NOT NULL,   -- contracts held into the next session
    pnl_usd       DOUBLE  NOT NULL,   -- that session's P&L after costs, per the position
    equity_usd    DOUBLE  NOT NULL,   -- cumulative P&L
    model_version VARCHAR NOT NULL,
    data_mode     VARCHAR NOT NULL,
    PRIMARY KEY (horizon, rule, as_of_date)
);
