import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml.quantiles import (QCOLS, QUANTILES, apply_shifts, calibration_shifts, coverage, crps, pinball,
                                           sequential_calibration, sort_quantiles)


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


def test_conformal_shifts_fix_a_too_narrow_forecast():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(5000)
    narrow = np.tile(np.array([-0.8, -0.6, 0.0, 0.6, 0.8]), (5000, 1))  # true P10/P90 are +-1.28
    assert coverage(y, narrow[:, 1], narrow[:, 3]) < 0.5
    fixed = apply_shifts(narrow, calibration_shifts(y[:2500], narrow[:2500]))
    assert coverage(y[2500:], fixed[2500:, 1], fixed[2500:, 3]) == pytest.approx(0.8, abs=0.03)


def test_sequential_calibration_only_uses_earlier_folds():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(np.tile([-0.5, -0.3, 0.0, 0.3, 0.5], (900, 1)), columns=list(QCOLS))
    frame["fold"] = np.repeat([0, 1, 2], 300)
    frame["realised"] = rng.standard_normal(900) * np.repeat([1.0, 1.0, 5.0], 300)
    out = sequential_calibration(frame)
    assert np.allclose(out.loc[out.fold == 0, list(QCOLS)], frame.loc[frame.fold == 0, list(QCOLS)])
    # fold 2's huge volatility cannot leak into its own calibration
    late = out[out.fold == 2]
    assert coverage(late.realised, late.q10, late.q90) < 0.5
