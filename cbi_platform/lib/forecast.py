"""Publishing ZL forecasts: the ensemble's walk-forward forecasts as backtest rows, and live rows
for every day whose outcome is not known yet: each member's registered final model predicts
those days, the ensemble combines them, and the conformal shifts learnt on the ensemble's own
out-of-fold residuals calibrate the result."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from cbi_platform.lib.calendar import trading_day_after
from cbi_platform.lib.ml import ensemble, registry
from cbi_platform.lib.ml.quantiles import QCOLS, apply_scale, calibration_scale, sequential_calibration
from cbi_platform.lib.ml.train import TARGET_PREFIX, usable_rows

ENSEMBLE = "zl_ensemble"
COLUMNS = ["as_of_date", "horizon", "horizon_days", "target_date", "model", "kind", "last_price", *QCOLS,
           "p10_price", "p50_price", "p90_price", "model_version", "data_mode", "created_at"]


def member_matrix_sql(member: str) -> str:
    """The features a member was trained on: its bucket view with the matrix's targets, or the
    whole matrix (main model, baselines)."""
    if member.startswith("bucket_"):
        return (f"SELECT b.*, t.* EXCLUDE (trade_date) FROM features.{member} b "
                "JOIN (SELECT trade_date, COLUMNS('^target_') FROM features.zl_daily_matrix) t USING (trade_date) "
                "ORDER BY trade_date")
    return "SELECT * FROM features.zl_daily_matrix ORDER BY trade_date"


def _with_prices(frame: pd.DataFrame) -> pd.DataFrame:
    for q in ("10", "50", "90"):
        frame[f"p{q}_price"] = frame["last_price"] * np.exp(frame[f"q{q}"])
    return frame


def live_member_forecasts(conn: duckdb.DuckDBPyConnection, members: list[str], horizon: str,
                          matrices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each member's final model on the days whose outcome is still unknown, side by side."""
    wide = None
    for member in members:
        if member not in matrices:
            matrices[member] = conn.execute(member_matrix_sql(member)).df()
        rows = usable_rows(matrices[member])
        pending = rows[rows[f"{TARGET_PREFIX}{horizon}"].isna()]
        entry = next(e for e in registry.latest(conn, member) if e.horizon == horizon)
        predicted = pd.DataFrame(registry.load(entry.path).predict(pending), columns=[f"{member}__{q}" for q in QCOLS])
        predicted.insert(0, "as_of_date", pending["trade_date"].to_numpy())
        wide = predicted if wide is None else wide.merge(predicted, on="as_of_date")
    return wide


def publish(conn: duckdb.DuckDBPyConnection, horizons: dict[str, int], data_mode: str) -> pd.DataFrame:
    matrix = conn.execute(member_matrix_sql("zl_main")).df()
    rows = usable_rows(matrix)
    prices = rows.set_index("trade_date")["zl_close"]
    created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    matrices = {"zl_main": matrix}
    parts = []
    for entry in registry.latest(conn, ENSEMBLE):
        horizon, days = entry.horizon, horizons[entry.horizon]
        oof = conn.execute("SELECT * FROM training.oof_predictions WHERE model = ? AND horizon = ? ORDER BY as_of_date",
                           [ENSEMBLE, horizon]).df()
        ends = rows.set_index("trade_date")[f"target_end_{horizon}"]
        backtest = sequential_calibration(oof, days)
        backtest = backtest.assign(kind="backtest", target_date=backtest["as_of_date"].map(ends))
        combiner = ensemble.load(entry.path)
        wide = live_member_forecasts(conn, combiner.members, horizon, matrices)
        scale = calibration_scale(oof["realised"].to_numpy(), oof[list(QCOLS)].to_numpy(), days)
        live = pd.DataFrame(apply_scale(combiner.predict(wide), scale), columns=list(QCOLS))
        live.insert(0, "as_of_date", wide["as_of_date"].to_numpy())
        live = live.assign(kind="live", target_date=[trading_day_after(pd.Timestamp(d).date(), days) for d in live["as_of_date"]])
        for frame in (backtest, live):
            frame["horizon"], frame["horizon_days"], frame["model"] = horizon, days, ENSEMBLE
            frame["model_version"], frame["data_mode"], frame["created_at"] = entry.version, data_mode, created
            frame["last_price"] = frame["as_of_date"].map(prices)
            parts.append(_with_prices(frame)[COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    out["target_date"] = pd.to_datetime(out["target_date"]).dt.date
    return out
