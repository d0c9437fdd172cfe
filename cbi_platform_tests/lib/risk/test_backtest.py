import numpy as np
import pytest

from cbi_platform.lib.risk.backtest import backtest, christoffersen, kupiec, non_overlapping, traffic_light


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
