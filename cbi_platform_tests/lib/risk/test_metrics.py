"""Risk figures against closed forms. Below P5 the quantile function is Q(u) = q05 + s log(u / 0.05)
(an exponential tail of scale s), so for a level beyond 95%: VaR = -q05 + s log(0.05 / (1 - level))
and CVaR = VaR + s (the exponential's mean excess); above P95 the same holds mirrored for a short."""

import math

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.risk.metrics import ContractTerms, fit_tails, forecast_draws, risk_rows, scenario_set
from cbi_platform.lib.risk.montecarlo import TailScales

ZL = ContractTerms("ZL", 60_000, 0.01)
GRID = {"q05": -0.06, "q10": -0.04, "q50": 0.0, "q90": 0.05, "q95": 0.08}  # skewed: the upside is wider
TAILS = TailScales(lower=0.02, upper=0.03)


def forecast(horizon: str = "1m", days: int = 21, price: float = 50.0, **grid) -> dict:
    return {"as_of_date": pd.Timestamp("2024-03-01").date(), "horizon": horizon, "horizon_days": days, "kind": "live",
            "last_price": price, "model_version": "v1", "data_mode": "sample", **{**GRID, **grid}}


def var_beyond(q: float, scale: float, level: float) -> float:
    return q + scale * math.log(0.05 / (1 - level))


def test_long_var_and_cvar_follow_the_lower_tail_in_returns_prices_and_dollars():
    row = risk_rows(pd.DataFrame([forecast()]), {"1m": TAILS}, ZL).iloc[0]
    for level, tag in ((0.95, 95), (0.99, 99)):
        var = var_beyond(0.06, 0.02, level)
        assert row[f"var{tag}_return"] == pytest.approx(var, abs=1e-9)
        assert row[f"cvar{tag}_return"] == pytest.approx(var + 0.02, abs=1e-5)
        assert row[f"var{tag}_price"] == pytest.approx(50.0 * math.exp(-var))
        # 60,000 lb at 50 c/lb is $30,000 of soybean oil; a fall of `var` in log return loses this much
        assert row[f"var{tag}_usd"] == pytest.approx(30_000 * (1 - math.exp(-var)))
        assert row[f"position_var{tag}_usd"] == pytest.approx(row[f"var{tag}_usd"])  # one long contract by default
    assert row["var99_return"] > row["var95_return"] and row["cvar99_return"] > row["var99_return"]


def test_a_short_position_loses_on_the_upper_tail_and_scales_with_its_size():
    row = risk_rows(pd.DataFrame([forecast()]), {"1m": TAILS}, ZL, position_contracts=-3).iloc[0]
    var = var_beyond(0.08, 0.03, 0.99)
    assert row["position_var99_usd"] == pytest.approx(3 * 30_000 * (math.exp(var) - 1))
    assert row["position_cvar99_usd"] == pytest.approx(3 * 30_000 * (math.exp(var + 0.03) - 1), rel=1e-4)
    assert row["position_contracts"] == -3.0
    # the wider upside makes the short's risk larger than the long's (per contract)
    assert row["position_var99_usd"] / 3 > row["var99_usd"]


def test_a_quantile_grid_that_crosses_is_made_monotone_before_var():
    crossing = pd.DataFrame([forecast(q10=-0.07)])  # P10 below P5: a crossing a quantile model can emit
    assert risk_rows(crossing, {"1m": TAILS}, ZL).iloc[0]["var95_return"] == pytest.approx(0.06)  # P10 is lifted, P5 kept
    draws = forecast_draws(crossing, TAILS, points=1000)[0]
    assert (np.diff(draws) >= 0).all() and draws[50:100].min() >= -0.06


def test_tail_scales_are_the_mean_excess_beyond_p5_and_p95_or_a_floor():
    dates = pd.bdate_range("2020-01-01", periods=200).date
    backtest = pd.DataFrame({"as_of_date": dates, "horizon": "1w", **{c: v for c, v in zip(QCOLS, (-0.05, -0.03, 0, 0.03, 0.05))}})
    outcome = np.zeros(200)
    outcome[:10] = -0.05 - np.arange(1, 11) * 0.002  # ten falls below P5 by 0.002 .. 0.020: mean excess 0.011
    outcome[10:13] = 0.09  # three rises above P95: too few to estimate, so the floor (P95 - P5) / 6
    tails = fit_tails(backtest, {"1w": pd.Series(outcome, index=dates)})["1w"]
    assert tails.lower == pytest.approx(0.011)
    assert tails.upper == pytest.approx(0.10 / 6)


def test_scenarios_reproduce_the_analytic_var_and_are_ordered_by_horizon():
    latest = pd.DataFrame([forecast("3m", 63, q05=-0.12, q95=0.14), forecast("1w", 5, q05=-0.03, q10=-0.02, q90=0.02, q95=0.03)])
    tails = {"1w": TailScales(0.01, 0.01), "3m": TAILS}
    frame, summary = scenario_set(latest, tails, n=200_000, seed=3)
    assert list(summary) == ["1w", "3m"] and len(frame) == 400_000
    assert summary["3m"]["var99"] == pytest.approx(var_beyond(0.12, 0.02, 0.99), abs=0.002)
    assert summary["3m"]["cvar99"] == pytest.approx(var_beyond(0.12, 0.02, 0.99) + 0.02, abs=0.003)
    week = frame[frame["horizon"] == "1w"]
    np.testing.assert_allclose(week["price"], 50.0 * np.exp(week["log_return"]))
    assert (frame["as_of_date"] == latest["as_of_date"].iloc[0]).all()


def test_forecast_draws_are_equiprobable_points_of_each_rows_distribution():
    rows = pd.DataFrame([forecast(), forecast(q05=-0.2)])
    draws = forecast_draws(rows, TAILS, points=1000)
    assert draws.shape == (2, 1000) and (np.diff(draws, axis=1) >= 0).all()
    # 5% of the points lie below P5, whatever the tail's scale
    assert (draws[0] < -0.06).sum() == 50 and (draws[1] < -0.2).sum() == 50
    assert forecast_draws(rows.iloc[:0], TAILS).shape == (0, 1000)
