"""Publishing ZL forecasts: the ensemble's walk-forward forecasts as backtest rows, and live rows
for every day whose outcome is not known yet: each member's registered final model predicts
those days, the ensemble combines them, and the conformal shifts learnt on the ensemble's own
out-of-fold residuals calibrate the result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.calendar import trading_day_after
from cbi_platform.lib.ml import ensemble, registry
from cbi_platform.lib.ml.quantiles import QCOLS, apply_scale, calibration_scale, sequential_calibration
from cbi_platform.lib.ml.train import TARGET_PREFIX, usable_rows
from cbi_platform.lib.quality import CheckOutcome, quantiles_ordered

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


def publish(conn: duckdb.DuckDBPyConnection, horizons: dict[str, int], data_mode: str, session: str) -> pd.DataFrame:
    """Every forecast row: the ensemble's walk-forward record (backtest) and its forecasts on the
    days whose outcome is pending (live), whose target dates count ZL's `session` template's days."""
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
        combiner = ensemble.load(registry.fetched(entry.path))
        wide = live_member_forecasts(conn, combiner.members, horizon, matrices)
        scale = calibration_scale(oof["realised"].to_numpy(), oof[list(QCOLS)].to_numpy(), days)
        live = pd.DataFrame(apply_scale(combiner.predict(wide), scale), columns=list(QCOLS))
        live.insert(0, "as_of_date", wide["as_of_date"].to_numpy())
        targets = [trading_day_after(pd.Timestamp(d).date(), days, session) for d in live["as_of_date"]]
        live = live.assign(kind="live", target_date=targets)
        for frame in (backtest, live):
            frame["horizon"], frame["horizon_days"], frame["model"] = horizon, days, ENSEMBLE
            frame["model_version"], frame["data_mode"], frame["created_at"] = entry.version, data_mode, created
            frame["last_price"] = frame["as_of_date"].map(prices)
            parts.append(_with_prices(frame)[COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    out["target_date"] = pd.to_datetime(out["target_date"]).dt.date
    return out


@dataclass
class Publication:
    frame: pd.DataFrame  # every published row (COLUMNS)
    latest_day: dt.date  # the matrix's latest trading day: its live rows are tomorrow's forecast
    horizons: dict[str, int]

    @property
    def latest(self) -> pd.DataFrame:
        return self.frame[(self.frame["kind"] == "live") & (self.frame["as_of_date"] == self.latest_day)]

    def outcomes(self) -> list[CheckOutcome]:
        missing = [h for h in self.horizons if h not in set(self.latest["horizon"])]
        return [
            quantiles_ordered(self.frame, QCOLS),
            CheckOutcome("latest_forecast_present", not missing,
                         f"no live forecast for {self.latest_day} at " + ", ".join(missing) if missing
                         else f"a live forecast for {self.latest_day} at every horizon",
                         metadata={"latest_trading_day": str(self.latest_day),
                                   "horizons": [h for h in self.horizons if h in set(self.latest["horizon"])]}),
        ]


def publish_and_store(conn: duckdb.DuckDBPyConnection, horizons: dict[str, int], data_mode: str, session: str) -> Publication:
    """Replace forecasts.zl_predictions with what `publish` computes, and archive the latest
    day's live forecast. Only that one is ex ante: earlier pending days re-forecast now use a
    model trained on later outcomes, so they are not archived as what was said on those days."""
    frame = publish(conn, horizons, data_mode, session)
    warehouse.replace_rows(conn, "forecasts.zl_predictions", frame)
    latest_day = conn.execute("SELECT max(trade_date) FROM features.zl_daily_matrix").fetchone()[0]
    publication = Publication(frame, latest_day, dict(horizons))
    archived = publication.latest.rename(columns={"created_at": "published_at"})
    warehouse.upsert(conn, "forecasts.zl_forecast_archive",
                     archived.drop(columns=["model", "kind", "p10_price", "p50_price", "p90_price"]),
                     ["as_of_date", "horizon", "model_version"])
    return publication
