"""Feature drift (PSI) between the training window and the latest quarter."""

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.drift import PsiLimits, feature_drift, population_stability, retrain_requested


def test_psi_matches_its_definition_on_a_hand_computed_case():
    # reference deciles put 10% in each bin; the recent sample puts 30% in the lowest bin and
    # the rest spread evenly over the other nine (70/9 % each)
    reference = np.arange(1000, dtype=float)
    recent = np.concatenate([np.full(30, -1.0), np.linspace(100, 999, 70)])
    shares = np.array([0.3] + [0.7 / 9] * 9)
    expected = float(np.sum((shares - 0.1) * np.log(shares / 0.1)))
    assert population_stability(reference, recent, bins=10) == pytest.approx(expected, rel=0.02)
    assert population_stability(reference, reference) == pytest.approx(0.0, abs=1e-12)


def test_a_planted_shift_asks_for_retraining_and_a_stable_feature_does_not():
    rng = np.random.default_rng(0)
    n = 1500
    matrix = pd.DataFrame({"trade_date": pd.bdate_range("2015-01-01", periods=n),
                           "stable": rng.standard_normal(n), "shifted": rng.standard_normal(n),
                           "flag": (rng.random(n) < 0.5).astype(float), "sparse": np.nan})
    matrix.loc[n - 63:, "shifted"] += 1.0  # one standard deviation in the latest quarter
    drift = feature_drift(matrix, ["stable", "shifted", "flag", "sparse"], PsiLimits()).set_index("feature")
    assert drift.loc["shifted", "psi"] > 0.25 and drift.loc["shifted", "level"] == "retrain"
    assert drift.loc["stable", "psi"] < 0.2 and drift.loc["stable", "level"] == "ok"
    assert drift.loc["flag", "level"] == "ok"  # two bins, same share
    assert drift.loc["sparse", "level"] == "insufficient"
    assert drift.index[0] == "shifted"
    # one of three judged features shifted: above the 10% share, a retrain is requested
    assert retrain_requested(drift.reset_index()) and not retrain_requested(drift.reset_index().iloc[1:])


def test_unchanged_features_rarely_cross_the_lines_on_a_quarter():
    rng = np.random.default_rng(1)
    psi = np.array([population_stability(rng.standard_normal(1400), rng.standard_normal(63)) for _ in range(1000)])
    assert (psi > 0.2).mean() < 0.05 and (psi > 0.25).mean() < 0.02


def test_drift_is_judged_on_what_the_deployed_model_has_not_seen():
    """A persistent series (a rate level) differs between a quarter and the years before it by
    construction; it is drift only for a model trained before that quarter."""
    n = 1500
    days = pd.bdate_range("2015-01-01", periods=n)
    level = pd.DataFrame({"trade_date": days, "rate": np.linspace(0.0, 5.0, n)})
    assert feature_drift(level, ["rate"], trained_through=days[-6]).loc[0, "level"] == "insufficient"
    stale = feature_drift(level, ["rate"], trained_through=days[-64])
    assert stale.loc[0, "level"] == "retrain" and stale.loc[0, "recent_rows"] == 63
