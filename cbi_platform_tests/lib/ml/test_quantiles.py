import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml.quantiles import (
    QCOLS,
    QUANTILES,
    apply_scale,
    calibrated_coverage_range,
    calibration_scale,
    coverage,
    crps,
    pinball,
    sequential_calibration,
    sort_quantiles,
)


def hand_pinball(y, q, tau):
    return np.where(y >= q, tau * (y - q), (1 - tau) * (q - y))


def test_pinball_agrees_with_the_definition():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(200)
    predicted = np.sort(rng.standard_normal((200, 5)), axis=1)
    expected = np.mean([hand_pinball(y, predicted[:, k], t) for k, t in enumerate(QUANTILES)], axis=0)
    assert np.allclose(pinball(y, predicted), expected)
    # CRPS from quantiles is twice the mean pinball (Berrisch & Ziel)
    assert np.allclose(crps(y, predicted), 2 * expected)


def test_sorting_removes_crossings():
    crossed = np.array([[0.1, -0.2, 0.0, 0.3, 0.2]])
    assert np.all(np.diff(sort_quantiles(crossed), axis=1) >= 0)


def test_conformal_scale_fixes_a_too_narrow_forecast():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(5000)
    narrow = np.tile(np.array([-0.8, -0.6, 0.0, 0.6, 0.8]), (5000, 1))  # true P10/P90 are +-1.28
    assert coverage(y, narrow[:, 1], narrow[:, 3]) < 0.5
    scale = calibration_scale(y[:2500], narrow[:2500], horizon_days=1)
    assert scale == pytest.approx(1.2816 / 0.6, rel=0.05)
    fixed = apply_scale(narrow, scale)
    assert coverage(y[2500:], fixed[2500:, 1], fixed[2500:, 3]) == pytest.approx(0.8, abs=0.03)
    assert np.allclose(fixed[:, 2], 0.0)  # the median does not move


def test_no_calibration_without_enough_independent_outcomes():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(500) * 3
    narrow = np.tile(np.array([-0.8, -0.6, 0.0, 0.6, 0.8]), (500, 1))
    # 500 overlapping 126-day outcomes are about four independent ones: leave the forecast alone
    assert calibration_scale(y, narrow, horizon_days=126) == 1.0
    assert calibration_scale(y, narrow, horizon_days=5) > 3




def test_sequential_calibration_only_uses_earlier_folds():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(np.tile([-0.5, -0.3, 0.0, 0.3, 0.5], (900, 1)), columns=list(QCOLS))
    frame["fold"] = np.repeat([0, 1, 2], 300)
    frame["realised"] = rng.standard_normal(900) * np.repeat([1.0, 1.0, 5.0], 300)
    out = sequential_calibration(frame, horizon_days=1)
    assert np.allclose(out.loc[out.fold == 0, list(QCOLS)], frame.loc[frame.fold == 0, list(QCOLS)])
    # fold 1 learns fold 0's scale and covers about 80%; fold 2's huge volatility cannot leak into its own
    middle, late = out[out.fold == 1], out[out.fold == 2]
    assert coverage(middle.realised, middle.q10, middle.q90) == pytest.approx(0.8, abs=0.07)
    assert coverage(late.realised, late.q10, late.q90) < 0.5


def test_calibration_ignores_outcomes_realised_after_the_fold_began():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(np.tile([-0.5, -0.3, 0.0, 0.3, 0.5], (1200, 1)), columns=list(QCOLS))
    frame["fold"] = np.repeat([0, 1], [900, 300])
    frame["realised"] = rng.standard_normal(1200) * 0.3
    wild = frame.copy()
    wild.loc[900 - 21:899, "realised"] = 50.0  # the last month of fold 0 resolves inside fold 1
    honest, leaked = sequential_calibration(frame, horizon_days=21), sequential_calibration(wild, horizon_days=21)
    pd.testing.assert_frame_equal(honest[list(QCOLS)], leaked[list(QCOLS)])
    # a shorter horizon has those outcomes before fold 1 begins: they do widen its interval
    assert sequential_calibration(wild, horizon_days=5).loc[900, "q90"] > honest.loc[900, "q90"]


def test_a_calibrated_forecasters_coverage_range_widens_with_overlap():
    from scipy.stats import binom

    low, high = calibrated_coverage_range(1000, 1)  # independent outcomes: the binomial's 5-95% range
    assert (low, high) == pytest.approx((binom.ppf(0.05, 1000, 0.8) / 1000, binom.ppf(0.95, 1000, 0.8) / 1000), abs=0.004)
    weekly, half_year = calibrated_coverage_range(2000, 5), calibrated_coverage_range(2000, 126)
    assert half_year[0] < weekly[0] - 0.05 and half_year[1] > weekly[1] + 0.05
    assert half_year[0] < 0.8 < half_year[1]


def test_the_gate_range_is_wider_than_the_yardstick():
    yardstick = calibrated_coverage_range(252, 21)
    gate = calibrated_coverage_range(252, 21, percentiles=(0.5, 99.5))
    assert gate[0] < yardstick[0] - 0.03 and gate[1] > yardstick[1] + 0.02
