import numpy as np
import pytest
from scipy import stats

from cbi_platform.lib.risk.backtest import (
    acerbi_szekely_z2,
    backtest,
    christoffersen,
    dynamic_quantile,
    es_backtest,
    kupiec,
    non_overlapping,
    traffic_light,
)


def test_basel_zones_for_250_days_at_99_percent():
    zones = [traffic_light(x, 250, 0.01) for x in range(0, 13)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 3


def test_few_observations_are_insufficient_evidence_not_green_and_exceedances_still_count():
    # four non-overlapping 6-month windows: no exceedance is expected (0.04 at 1%), so none seen
    # shows nothing either way; one in four at 1% is evidence of understated risk (P(X >= 1) = 3.9%)
    assert traffic_light(0, 4, 0.01) == "insufficient"
    assert traffic_light(0, 99, 0.01) == "insufficient"
    assert traffic_light(0, 100, 0.01) == "green"
    assert traffic_light(0, 19, 0.05) == "insufficient" and traffic_light(0, 20, 0.05) == "green"
    assert traffic_light(1, 4, 0.01) == "yellow"
    assert traffic_light(2, 4, 0.01) == "red"
    few = backtest(np.array([0.01, -0.02, 0.0, 0.03]), np.full(4, 0.1), 0.99)
    assert few.zone == "insufficient" and few.needed_observations == 100
    assert few.summary() == "0 exceedances in 4 non-overlapping observations (0.04 expected at 99%)"


def test_kupiec_accepts_the_right_rate_and_rejects_a_wrong_one():
    assert kupiec(3, 250, 0.01)[1] > 0.5
    lr, p = kupiec(12, 250, 0.01)
    # hand-computed LR for 12 exceedances in 250 at 1%
    expected = -2 * (238 * np.log(0.99) + 12 * np.log(0.01) - 238 * np.log(238 / 250) - 12 * np.log(12 / 250))
    assert lr == pytest.approx(expected) and p < 0.001


def test_christoffersen_flags_clustered_exceedances():
    clustered = np.zeros(500, dtype=int)
    clustered[100:110] = 1
    spread = np.zeros(500, dtype=int)
    spread[::50] = 1
    assert christoffersen(clustered)[1] < 0.001
    assert christoffersen(spread)[1] > 0.1


def test_backtest_counts_losses_beyond_var():
    rng = np.random.default_rng(0)
    returns = rng.standard_normal(10_000) * 0.02
    var99 = np.full(10_000, 2.326 * 0.02)
    result = backtest(returns, var99, 0.99)
    assert result.exceedances == int(np.sum(-returns > var99))
    assert result.observations == 10_000 and result.expected == pytest.approx(100)
    assert result.kupiec_p > 0.01 and result.zone == "green"
    too_small = backtest(returns, var99 / 2, 0.99)
    assert too_small.zone == "red" and too_small.kupiec_p < 1e-6


def test_non_overlapping_forecasts():
    assert list(non_overlapping(np.arange(20), 5)) == [0, 5, 10, 15]


def test_dq_statistic_is_the_closed_form_on_a_small_case():
    realised = np.array([-0.05, 0.01, 0.02, -0.04, 0.0, 0.01, -0.06, 0.02, 0.01, 0.0])
    var = np.array([0.03, 0.03, 0.04, 0.03, 0.02, 0.03, 0.05, 0.03, 0.02, 0.03])
    result = dynamic_quantile(realised, var, 0.95, lags=1)
    hit = (-realised > var).astype(float) - 0.05
    design = np.column_stack([np.ones(9), hit[:-1], var[1:]])
    expected = hit[1:] @ design @ np.linalg.inv(design.T @ design) @ design.T @ hit[1:] / (0.05 * 0.95)
    assert result.statistic == pytest.approx(expected) and result.observations == 9
    assert result.p_value == pytest.approx(stats.chi2.sf(expected, 3))


def test_dq_holds_its_size_on_a_right_var_and_rejects_clustered_or_level_dependent_hits():
    rng = np.random.default_rng(0)
    rejections = 0
    for _ in range(400):
        sigma = np.exp(rng.normal(0, 0.3, 500)) * 0.02
        returns = rng.standard_normal(500) * sigma
        rejections += dynamic_quantile(returns, 1.645 * sigma, 0.95).p_value < 0.05
    assert 0.02 < rejections / 400 < 0.09  # nominal 5%
    # VaR that ignores the volatility: hits pile up when volatility is high, i.e. cluster
    sigma = np.repeat(rng.choice([0.01, 0.04], 25), 40)
    returns = rng.standard_normal(1000) * sigma
    constant = np.full(1000, 1.645 * np.sqrt(np.mean(sigma ** 2)))
    assert dynamic_quantile(returns, constant, 0.95).p_value < 0.001


def test_z2_is_its_formula_and_zero_in_expectation_for_a_right_es():
    realised = np.array([-0.05, 0.01, -0.03, 0.02])
    var, es = np.full(4, 0.025), np.full(4, 0.04)
    # two exceedances: (-0.05 - 0.03) / 0.04 / (4 * 0.05) + 1 = -9
    assert acerbi_szekely_z2(realised, var, es, 0.95) == pytest.approx(-9.0)
    rng = np.random.default_rng(0)
    z = stats.norm.ppf(0.99)
    es99 = stats.norm.pdf(z) / 0.01  # the standard normal's ES at 99%
    values = [acerbi_szekely_z2(rng.standard_normal(5000), np.full(5000, z), np.full(5000, es99), 0.99) for _ in range(200)]
    assert abs(np.mean(values)) < 0.05


def _normal_draws(rows: int, scale: float = 1.0) -> np.ndarray:
    grid = (np.arange(1000) + 0.5) / 1000
    return np.tile(stats.norm.ppf(grid) * scale, (rows, 1))


def test_es_backtest_passes_a_right_es_and_rejects_tails_deeper_than_forecast():
    rng = np.random.default_rng(1)
    n, z = 800, stats.norm.ppf(0.99)
    var, es = np.full(n, z), np.full(n, stats.norm.pdf(z) / 0.01)
    right = es_backtest(rng.standard_normal(n), var, es, 0.99, _normal_draws(n), simulations=500)
    assert right.p_value > 0.05 and right.expected_exceedances == pytest.approx(8.0)
    deeper = es_backtest(rng.standard_normal(n) * 1.5, var, es, 0.99, _normal_draws(n), simulations=500)
    assert deeper.z2 < -0.5 and deeper.p_value < 0.01
