"""The risk asset's logic on worlds whose answer is known: forecasts that state the true return
distribution pass every backtest that has the evidence to judge; forecasts that state half the
true spread are caught (Basel red, an ERROR); too little history says so instead of passing."""

import datetime as dt

import numpy as np
import pandas as pd
from scipy.stats import norm

from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES
from cbi_platform.lib.risk.assessment import assess, outcomes
from cbi_platform.lib.risk.metrics import ContractTerms

HORIZON, DAYS = "1w", 5
DAILY_SD = 0.015
ZL = ContractTerms("ZL", 60_000, 0.01)


def world(days: int, stated_spread: float, seed: int = 7) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Daily log returns N(0, DAILY_SD); each day's 1w forecast states N(0, stated_spread x true sd)."""
    rng = np.random.default_rng(seed)
    dates = [d.date() for d in pd.bdate_range("2015-01-01", periods=days + DAYS)]
    daily = rng.standard_normal(days + DAYS) * DAILY_SD
    outcome = pd.Series([daily[i + 1:i + 1 + DAYS].sum() for i in range(days)], index=dates[:days])
    sd = DAILY_SD * np.sqrt(DAYS) * stated_spread
    grid = norm.ppf(QUANTILES) * sd
    predictions = pd.DataFrame({"as_of_date": dates[:days], "horizon": HORIZON, "horizon_days": DAYS, "kind": "backtest",
                                "last_price": 50.0, "model_version": "v1", "data_mode": "sample", **dict(zip(QCOLS, grid))})
    live = predictions.iloc[[-1]].assign(as_of_date=dates[days], kind="live")
    return pd.concat([predictions, live], ignore_index=True), {HORIZON: outcome}


def checks(days: int, stated_spread: float) -> dict:
    predictions, realised = world(days, stated_spread)
    assessment = assess(predictions, realised, {HORIZON: DAYS}, ZL, 1.0, 10_000, seed=1)
    return {c.name: c for c in outcomes(assessment)}, assessment


def test_forecasts_stating_the_true_distribution_pass_what_can_be_judged():
    result, assessment = checks(1500, 1.0)
    assert list(result) == ["var_ordered", "scenarios_match_quantiles", "var_backtest_1w", "var_dq_1w", "es_backtest_1w"]
    assert result["var_ordered"].passed and result["scenarios_match_quantiles"].passed
    assert assessment.backtests[HORIZON].observations == 300  # every 5th forecast: outcomes do not overlap
    # 3 exceedances expected: green or, by chance, yellow (a warning), never red; Kupiec does not reject
    backtest = assessment.backtests[HORIZON]
    assert backtest.zone in ("green", "yellow") and result["var_backtest_1w"].severity == "WARN"
    assert backtest.kupiec_p > 0.05 and f"Basel zone {backtest.zone}" in result["var_backtest_1w"].description
    assert result["var_dq_1w"].passed
    # 300 observations expect 3 exceedances of VaR99: too few for the ES test, which says so
    es = result["es_backtest_1w"]
    assert not es.passed and es.severity == "WARN" and "insufficient evidence" in es.description
    # VaR99 of N(0, sd) over a week is 2.326 sd; in dollars per contract at 50 c/lb
    var99 = assessment.latest.loc[HORIZON, "var99_return"]
    assert abs(var99 - 2.326 * DAILY_SD * np.sqrt(DAYS)) < 0.002
    assert abs(assessment.latest.loc[HORIZON, "var99_usd"] - 60_000 * 0.50 * (1 - np.exp(-var99))) < 1


def test_forecasts_stating_half_the_spread_are_red_and_block():
    result, assessment = checks(1500, 0.5)
    backtest = result["var_backtest_1w"]
    assert assessment.backtests[HORIZON].zone == "red" and not backtest.passed and backtest.severity == "ERROR"
    assert "Basel zone red" in backtest.description
    assert not result["var_dq_1w"].passed and "cluster or depend" in result["var_dq_1w"].description


def test_a_short_history_is_insufficient_evidence_not_a_pass():
    result, _ = checks(200, 1.0)
    for name in ("var_backtest_1w", "var_dq_1w", "es_backtest_1w"):
        outcome = result[name]
        assert not outcome.passed and outcome.severity == "WARN" and "insufficient evidence" in outcome.description, name
    assert "40 non-overlapping observations" in result["var_backtest_1w"].description


def test_the_latest_day_is_the_live_forecast():
    predictions, realised = world(300, 1.0)
    assessment = assess(predictions, realised, {HORIZON: DAYS}, ZL, 1.0, 1000, seed=1)
    assert assessment.latest_day == max(predictions["as_of_date"]) and assessment.latest_day > dt.date(2015, 1, 1)
    assert set(assessment.draws["horizon"]) == {HORIZON}


def test_check_metadata_reads_without_float_noise():
    result, _ = checks(200, 1.0)
    floats = {(name, key): value for name, outcome in result.items() for key, value in outcome.metadata.items()
              if isinstance(value, float) and value == value}
    assert floats and all(value == float(f"{value:.4g}") for value in floats.values()), floats
