"""Publishing forecasts on a small warehouse whose answer is known: two climatology members with
fixed quantiles, an ensemble weighting them 1:3, and its out-of-fold record. The backtest rows are
that record (the first fold as predicted), the live rows are the latest registered ensemble on the
days whose outcome is pending, widened by the conformal scale so their P10-P90 covers 80% of the
past outcomes."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import forecast, warehouse
from cbi_platform.lib.calendar import template_sessions, trading_day_after
from cbi_platform.lib.ml import ensemble, registry
from cbi_platform.lib.ml.models import Climatology
from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.settings import PROJECT_ROOT

DAYS, WARM_UP, H = 160, 10, 5
NARROW = np.array([-0.04, -0.03, 0.0, 0.03, 0.04])
WIDE = np.array([-0.08, -0.06, 0.01, 0.06, 0.08])
WEIGHTS = {"climatology": 0.25, "wide_climatology": 0.75}
COMBINED = 0.25 * NARROW + 0.75 * WIDE


def daily_matrix() -> pd.DataFrame:
    """ZL's trading days (CBOT grains' sessions) with a ZL close whose weekly moves are larger than
    the members state (so the conformal scale must widen them), a warm-up without volatility and
    pending outcomes at the end, the last on the Thursday before Labor Day 2023."""
    grain_sessions = template_sessions("grains")
    end = int(np.searchsorted(grain_sessions, np.datetime64("2023-08-31", "D"))) + 1
    dates = [d.astype(object) for d in grain_sessions[end - DAYS:end + H]]
    close = 50 * np.exp(np.cumsum(np.random.default_rng(11).standard_normal(DAYS + H) * 0.03))
    frame = pd.DataFrame({"trade_date": dates[:DAYS], "zl_close": close[:DAYS], "zl_vol_63d": 0.3})
    frame.loc[:WARM_UP - 1, "zl_vol_63d"] = np.nan
    frame["target_1w"] = np.log(close[H:H + DAYS] / close[:DAYS])
    frame["target_end_1w"] = dates[H:H + DAYS]
    frame.loc[DAYS - H:, ["target_1w", "target_end_1w"]] = None  # their outcome is pending
    return frame


def register(conn, model: str, version: str, path, trained_at: dt.datetime) -> None:
    registry.register(conn, [{"model_asset": f"models/{model}", "model": model, "version": version, "horizon": "1w",
                              "trained_at": trained_at, "profile": "fast", "data_fingerprint": version, "path": str(path),
                              "data_mode": "sample", "metrics": {}}])


def save_ensemble(conn, tmp_path, version: str, weights: dict[str, float], trained_at: dt.datetime) -> None:
    path = tmp_path / version
    fitted = ensemble.HorizonEnsemble("1w", list(weights), "greedy", np.array(list(weights.values())), None,
                                      pd.DataFrame(), {})
    ensemble.save(fitted, path, {})
    register(conn, forecast.ENSEMBLE, version, path, trained_at)


def warehouse_with_an_ensemble(tmp_path):
    """Two climatology members, two registered ensemble versions (the newer weighs them 1:3) and
    the newer one's out-of-fold record."""
    matrix = daily_matrix()
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, PROJECT_ROOT / "sql")
    conn.register("matrix", matrix)
    conn.execute("CREATE TABLE features.zl_daily_matrix AS SELECT * FROM matrix")
    trained = dt.datetime(2024, 1, 1)
    for name, quantiles in (("climatology", NARROW), ("wide_climatology", WIDE)):
        model = Climatology("target_1w", H)
        model.quantiles = quantiles
        registry.save(model, tmp_path / name, {})
        register(conn, name, f"{name}-v1", tmp_path / name, trained)
    save_ensemble(conn, tmp_path, "ens-old", {"climatology": 1.0, "wide_climatology": 0.0}, trained)
    save_ensemble(conn, tmp_path, "ens-new", WEIGHTS, trained + dt.timedelta(days=1))
    known = matrix.iloc[WARM_UP:DAYS - H]
    oof = pd.DataFrame({"model": forecast.ENSEMBLE, "horizon": "1w", "as_of_date": known["trade_date"],
                        "fold": np.where(np.arange(len(known)) < len(known) // 2, 0, 1),
                        **dict(zip(QCOLS, COMBINED)), "realised": known["target_1w"], "model_version": "ens-new"})
    warehouse.replace_rows(conn, "training.oof_predictions", oof)
    return conn, matrix, oof


@pytest.fixture
def published(tmp_path):
    conn, matrix, oof = warehouse_with_an_ensemble(tmp_path)
    out = forecast.publish(conn, {"1w": H}, "sample", "grains")
    conn.close()
    return out, matrix, oof


def test_backtest_rows_are_the_out_of_fold_record_with_its_outcome_dates(published):
    out, matrix, oof = published
    backtest = out[out["kind"] == "backtest"].reset_index(drop=True)
    assert list(backtest["as_of_date"]) == list(oof["as_of_date"])
    ends = matrix.set_index("trade_date")["target_end_1w"]
    assert list(backtest["target_date"]) == [ends[d] for d in backtest["as_of_date"]]
    first = (oof["fold"] == 0).to_numpy()
    np.testing.assert_allclose(backtest.loc[first, list(QCOLS)].to_numpy(), np.tile(COMBINED, (first.sum(), 1)))
    # the second fold is widened by what the first fold's outcomes, known before it began, showed
    second = backtest.loc[~first, list(QCOLS)].to_numpy()
    scale = (second[:, [1, 3]] - COMBINED[2]) / (COMBINED[[1, 3]] - COMBINED[2])
    assert np.allclose(scale, scale[0, 0]) and scale[0, 0] > 1.2
    known_before = oof["realised"][first].iloc[:-H]
    assert known_before.between(second[0, 1], second[0, 3]).mean() >= 0.8


def test_live_rows_are_the_latest_ensemble_on_pending_days_calibrated_to_cover_80_percent(published):
    out, matrix, oof = published
    live = out[out["kind"] == "live"].reset_index(drop=True)
    pending = matrix["trade_date"].iloc[DAYS - H:].tolist()
    assert list(live["as_of_date"]) == pending and (live["model_version"] == "ens-new").all()
    assert list(live["target_date"]) == [trading_day_after(d, H, "grains") for d in pending]
    # a week after the Thursday before Labor Day is ZL's Friday, not Globex's Thursday
    assert live["target_date"].iloc[-1] == dt.date(2023, 9, 8) and pending[-1] == dt.date(2023, 8, 31)
    quantiles = live[list(QCOLS)].to_numpy()
    np.testing.assert_allclose(quantiles[:, 2], COMBINED[2])  # the median of the 1:3 mix, not the old version's
    tails = [0, 1, 3, 4]
    scale = (quantiles[:, tails] - COMBINED[2]) / (COMBINED[tails] - COMBINED[2])
    assert np.allclose(scale, scale[0, 0]) and scale[0, 0] > 1.2  # one scale for every quantile, widening
    inside = oof["realised"].between(quantiles[0, 1], quantiles[0, 3]).mean()
    assert 0.8 <= inside <= 0.8 + 2 / len(oof)


def test_prices_follow_the_close_of_the_forecast_day(published):
    out, matrix, _ = published
    close = matrix.set_index("trade_date")["zl_close"]
    np.testing.assert_allclose(out["last_price"], out["as_of_date"].map(close))
    for q in ("10", "50", "90"):
        np.testing.assert_allclose(out[f"p{q}_price"], out["last_price"] * np.exp(out[f"q{q}"]))
    assert list(out.columns) == forecast.COLUMNS and (out["data_mode"] == "sample").all()


def test_stored_forecasts_archive_only_the_latest_days_live_rows(tmp_path):
    conn, matrix, _ = warehouse_with_an_ensemble(tmp_path)
    publication = forecast.publish_and_store(conn, {"1w": H}, "sample", "grains")
    stored = conn.execute("SELECT count(*) FROM forecasts.zl_predictions").fetchone()[0]
    archive = conn.execute("SELECT as_of_date, horizon, model_version FROM forecasts.zl_forecast_archive").fetchall()
    latest = matrix["trade_date"].iloc[-1]
    assert stored == len(publication.frame) and publication.latest_day == latest
    # five days are pending, but only the latest is forecast ex ante: the others were re-forecast
    # by a model that has seen later outcomes
    assert archive == [(latest, "1w", "ens-new")]
    assert {o.name: o.passed for o in publication.outcomes()} == {"quantiles_ordered": True, "latest_forecast_present": True}
    # published again (another refresh the same day): the archive keeps one row per version
    forecast.publish_and_store(conn, {"1w": H}, "sample", "grains")
    assert conn.execute("SELECT count(*) FROM forecasts.zl_forecast_archive").fetchone()[0] == 1
    conn.close()


def test_a_horizon_without_a_live_forecast_for_the_latest_day_fails_its_check(tmp_path):
    conn, _, _ = warehouse_with_an_ensemble(tmp_path)
    publication = forecast.publish_and_store(conn, {"1w": H}, "sample", "grains")
    conn.close()
    publication.horizons = {"1w": H, "1m": 21}  # the ensemble was registered for 1w only
    present = {o.name: o for o in publication.outcomes()}["latest_forecast_present"]
    assert not present.passed and present.description == f"no live forecast for {publication.latest_day} at 1m"
    assert present.metadata["horizons"] == ["1w"]
