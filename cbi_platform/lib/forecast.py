"""Publishing ZL forecasts: load the registered models, predict the rows whose outcome is not
known yet, calibrate, and collect the walk-forward history as backtest forecasts."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from cbi_platform.lib.calendar import trading_day_after
from cbi_platform.lib.ml import registry
from cbi_platform.lib.ml.quantiles import QCOLS, apply_shifts, calibration_shifts, sequential_calibration
from cbi_platform.lib.ml.train import TARGET_PREFIX, usable_rows

COLUMNS = ["as_of_date", "horizon", "horizon_days", "target_date", "model", "kind", "last_price", *QCOLS,
           "p10_price", "p50_price", "p90_price", "model_version", "data_mode", "created_at"]


def _with_prices(frame: pd.DataFrame) -> pd.DataFrame:
    for q in ("10", "50", "90"):
        frame[f"p{q}_price"] = frame["last_price"] * np.exp(frame[f"q{q}"])
    return frame


def model_forecasts(conn: duckdb.DuckDBPyConnection, matrix: pd.DataFrame, model_asset: str, model: str,
                    horizons: dict[str, int], data_mode: str) -> pd.DataFrame:
    """Backtest rows (calibrated walk-forward OOF) and live rows (the registered final model on
    every day whose outcome is still unknown, calibrated on all OOF residuals)."""
    rows = usable_rows(matrix)
    prices = rows.set_index("trade_date")["zl_close"]
    created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    parts = []
    for entry in registry.latest(conn, model_asset):
        horizon, days = entry.horizon, horizons[entry.horizon]
        oof = conn.execute(
            "SELECT * FROM training.oof_predictions WHERE model = ? AND horizon = ? ORDER BY as_of_date", [model, horizon]
        ).df()
        ends = rows.set_index("trade_date")[f"target_end_{horizon}"]
        backtest = sequential_calibration(oof)
        backtest = backtest.assign(kind="backtest", target_date=backtest["as_of_date"].map(ends))
        pending = rows[rows[f"{TARGET_PREFIX}{horizon}"].isna()]
        fitted = registry.load(entry.path)
        live = pd.DataFrame(fitted.predict(pending), columns=list(QCOLS))
        shifts = calibration_shifts(oof["realised"].to_numpy(), oof[list(QCOLS)].to_numpy())
        live[list(QCOLS)] = apply_shifts(live[list(QCOLS)].to_numpy(), shifts)
        live.insert(0, "as_of_date", pending["trade_date"].to_numpy())
        live = live.assign(kind="live", target_date=[trading_day_after(pd.Timestamp(d).date(), days) for d in live["as_of_date"]])
        for frame in (backtest, live):
            frame["horizon"], frame["horizon_days"], frame["model"] = horizon, days, model
            frame["model_version"], frame["data_mode"], frame["created_at"] = entry.version, data_mode, created
            frame["last_price"] = frame["as_of_date"].map(prices)
            parts.append(_with_prices(frame)[COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    out["target_date"] = pd.to_datetime(out["target_date"]).dt.date
    return out
