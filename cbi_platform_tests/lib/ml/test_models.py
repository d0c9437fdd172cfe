"""The statistical members, the greedy ensemble and the skill test, on synthetic data whose
answer is known."""

import os

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml import ensemble, registry
from cbi_platform.lib.ml.ensemble import greedy_weights
from cbi_platform.lib.ml.models import Climatology, RandomWalk, ShrunkLinear, VolScaledClimatology
from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES, pinball
from cbi_platform.lib.ml.skill import skill_test

DAYS = 21
SCALE = np.sqrt(DAYS / 252)


def synthetic(n: int, signal: float, seed: int) -> pd.DataFrame:
    """Two features; the standardised return loads `signal` on the first, none on the second."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    vol = np.where(np.arange(n) % 400 < 200, 0.15, 0.45)  # calm and stressed stretches
    z = signal * x1 + np.sqrt(1 - signal**2) * rng.standard_normal(n)
    return pd.DataFrame({"x1": x1 * 3 + 10, "x2": x2, "zl_vol_63d": vol, "target_1m": z * vol * SCALE})


def skill(model, train, test) -> float:
    reference = Climatology("target_1m", DAYS).fit(train, train.iloc[:0])
    y = test["target_1m"].to_numpy()
    return 1 - pinball(y, model.predict(test)).mean() / pinball(y, reference.predict(test)).mean()


def test_climatology_quantiles_are_the_training_quantiles():
    frame = synthetic(2000, 0.0, 1)
    model = Climatology("target_1m", DAYS).fit(frame.iloc[:1500], frame.iloc[1500:])
    np.testing.assert_allclose(model.predict(frame.iloc[:3])[0], np.quantile(frame["target_1m"], QUANTILES))


def test_volatility_scaling_beats_climatology_when_volatility_moves():
    train, test = synthetic(4000, 0.0, 2), synthetic(2000, 0.0, 3)
    model = VolScaledClimatology("target_1m", DAYS).fit(train, train.iloc[:0])
    assert skill(model, train, test) > 0.05


def test_the_random_walk_keeps_the_spread_and_drops_the_training_drift():
    trending = synthetic(4000, 0.0, 13)
    trending["target_1m"] -= 0.5 * trending["zl_vol_63d"] * SCALE  # the training years fell half a sd a month
    vol_scaled = VolScaledClimatology("target_1m", DAYS).fit(trending, trending.iloc[:0])
    walk = RandomWalk("target_1m", DAYS).fit(trending, trending.iloc[:0])
    assert vol_scaled.quantiles[2] == pytest.approx(-0.5, abs=0.06)  # the drift, learnt
    assert walk.quantiles[2] == pytest.approx(0.0, abs=0.06)  # dropped: centred on zero
    np.testing.assert_allclose(np.diff(walk.quantiles), np.diff(vol_scaled.quantiles))  # the same spread
    driftless = synthetic(2000, 0.0, 14)  # the test years do not fall: the random walk scores better
    assert skill(walk, trending, driftless) > skill(vol_scaled, trending, driftless) + 0.05


def test_the_shrunk_linear_model_finds_a_linear_signal():
    train, test = synthetic(3000, 0.3, 4), synthetic(2000, 0.3, 5)
    model = ShrunkLinear("target_1m", DAYS, ["x1", "x2"], (0.01, 0.1, 1.0, 10.0)).fit(train.iloc[:2500], train.iloc[2500:])
    # coefficients are per standard deviation of each feature: the loading, slightly shrunk
    assert 0.2 < model.coef[0] <= 0.31 and abs(model.coef[1]) < 0.05
    assert skill(model, train, test) > 0.12  # the vol scaling and the signal together


def test_the_shrunk_linear_model_shrinks_noise_away():
    train, test = synthetic(600, 0.0, 6), synthetic(2000, 0.0, 7)
    model = ShrunkLinear("target_1m", DAYS, ["x1", "x2"], (0.0, 10.0)).fit(train.iloc[:500], train.iloc[500:])
    assert model.tuning_scores[10.0] < model.tuning_scores[0.0] and model.shrinkage == 10.0
    assert np.abs(model.coef).max() < 0.02
    unshrunk = ShrunkLinear("target_1m", DAYS, ["x1", "x2"], (0.0,)).fit(train.iloc[:500], train.iloc[500:])
    assert skill(model, train, test) > skill(unshrunk, train, test)  # out of sample, shrinking noise helps


def test_missing_and_never_seen_features_contribute_nothing():
    frame = synthetic(1000, 0.3, 8).assign(empty=np.nan)
    model = ShrunkLinear("target_1m", DAYS, ["x1", "x2", "empty"]).fit(frame.iloc[:800], frame.iloc[800:])
    assert model.coef[2] == 0.0
    row = frame.iloc[[0]].assign(x1=np.nan)
    centre = frame.iloc[[0]].assign(x1=model.mean[0])
    np.testing.assert_allclose(model.predict(row), model.predict(centre))
    assert np.isfinite(model.predict(frame)).all()


def test_statistical_models_round_trip_through_the_registry(tmp_path):
    train = synthetic(1000, 0.3, 9)
    for model in (Climatology("target_1m", DAYS), VolScaledClimatology("target_1m", DAYS), RandomWalk("target_1m", DAYS),
                  ShrunkLinear("target_1m", DAYS, ["x1", "x2"], (0.1, 1.0))):
        model.fit(train.iloc[:800], train.iloc[800:])
        path = tmp_path / type(model).__name__
        registry.save(model, path, {"version": "v1"})
        loaded = registry.load(path)
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(loaded.predict(train), model.predict(train))


def forecasts_for(realised: np.ndarray, informative: bool, seed: int) -> np.ndarray:
    """(n, 2, q): member 0 is climatology, member 1 knows part of the outcome (or pure noise)."""
    rng = np.random.default_rng(seed)
    n = len(realised)
    climatology = np.tile(np.quantile(realised, QUANTILES), (n, 1))
    spread = climatology - np.median(realised)
    shift = 0.6 * realised if informative else rng.standard_normal(n) * realised.std()
    return np.stack([climatology, shift[:, None] + 0.8 * spread], axis=1)


@pytest.mark.parametrize("informative", [True, False])
def test_the_greedy_ensemble_weighs_members_by_evidence(informative):
    realised = np.random.default_rng(10).standard_normal(1000)
    forecasts = forecasts_for(realised, informative, 11)
    weights = greedy_weights(forecasts, realised, prior=0, prior_rounds=10)
    assert weights.sum() == pytest.approx(1.0) and weights[0] >= 0.25  # the prior keeps the reference
    if informative:
        assert weights[1] >= 0.5
    else:
        assert weights[1] <= 0.05  # pinball is flat at the optimum: at most a token pick of noise


def test_the_ensemble_for_a_fold_ignores_outcomes_realised_after_it_began(tmp_path):
    """A member that 'knows' the outcomes of fold 0's last h rows, which resolve inside fold 1,
    must not earn weight for fold 1: when fold 1 began, those outcomes were still unknown."""
    rng = np.random.default_rng(15)
    horizon_days, block = 21, 300  # a month: every fold's past holds 10+ independent outcomes to judge
    realised = rng.standard_normal(3 * block) * 0.1
    dates = pd.bdate_range("2020-01-01", periods=3 * block)
    climatology = np.tile(np.quantile(realised, QUANTILES), (3 * block, 1))
    prescient = climatology + 0.5  # useless, except on the rows whose outcome is unknown at fold 1's start
    prescient[:block] = climatology[:block]  # and no different from climatology on fold 0's other rows, so
    late = np.arange(block - horizon_days, block)  # only those unknown outcomes could earn it weight for fold 1
    prescient[late] = realised[late, None] + 0.02 * (np.array(QUANTILES) - 0.5)
    frames = [pd.DataFrame(q, columns=list(QCOLS)).assign(model=m, horizon="1m", as_of_date=dates,
                                                           fold=np.repeat([0, 1, 2], block), realised=realised)
              for m, q in (("climatology", climatology), ("prescient", prescient))]
    fitted = ensemble.fit_horizon(pd.concat(frames), "1m", horizon_days, tmp_path, try_stacking=False)
    first = fitted.oof[fitted.oof["fold"] == 1]
    np.testing.assert_allclose(first[list(QCOLS)].to_numpy(), climatology[block:2 * block])
    # not vacuous: had fold 0's unresolved outcomes been used, the member would have earned weight
    # and the evidence to leave climatology for fold 1
    forecasts = np.stack([climatology[:block], prescient[:block]], axis=1)
    weights = greedy_weights(forecasts, realised[:block], prior=0, prior_rounds=ensemble.reference_prior_rounds(horizon_days))
    assert weights[1] > 0 and ensemble.departure_earned(forecasts, realised[:block], weights, 0, horizon_days)


def test_the_noise_band_respects_overlapping_outcomes():
    rng = np.random.default_rng(12)
    window = np.ones(63) / np.sqrt(63)
    realised = np.convolve(rng.standard_normal(2000 + 62), window, "valid") * 0.05  # 63-day sums
    drift = np.convolve(rng.standard_normal(2000 + 62), window, "valid") * 0.02  # slow forecast error
    reference = np.tile(np.quantile(realised, QUANTILES), (2000, 1))
    noisy = reference + drift[:, None]
    quarterly = skill_test(realised, noisy, reference, 63)
    weekly = skill_test(realised, noisy, reference, 5)  # floored at one-month blocks
    naive_se = (pinball(realised, noisy) - pinball(realised, reference)).std(ddof=1) / np.sqrt(2000)
    assert weekly.standard_error > 2 * naive_se
    assert quarterly.band > 1.3 * weekly.band
    assert quarterly.skill < 0 and not quarterly.better_beyond_noise
    assert (quarterly.independent_outcomes, weekly.independent_outcomes) == (2000 // 63, 2000 // 5)


def test_the_prior_on_climatology_grows_with_the_noise_of_the_evidence():
    from cbi_platform.lib.ml.ensemble import reference_prior_rounds

    # out-of-fold loss differences over overlapping h-day outcomes are noisier by sqrt(h)
    assert [reference_prior_rounds(d) for d in (5, 21, 63, 126)] == [10, 20, 35, 50]


@pytest.mark.parametrize(("informative", "rows", "horizon_days", "earned"), [
    (True, 1000, 5, True),  # 200 independent outcomes of a member that knows part of the outcome
    (False, 1000, 5, False),  # noise: whatever weight selection gives it, it has not beaten climatology
    (True, 180, 21, False),  # the same member on 8.6 independent outcomes: too few to judge
])
def test_the_ensemble_leaves_climatology_only_on_evidence(informative, rows, horizon_days, earned):
    realised = np.random.default_rng(10).standard_normal(rows)
    forecasts = forecasts_for(realised, informative, 11)
    weights = greedy_weights(forecasts, realised, prior=0, prior_rounds=10)
    assert ensemble.departure_earned(forecasts, realised, weights, 0, horizon_days) is earned


def test_without_evidence_the_ensemble_is_climatology_alone(tmp_path):
    """A member that was lucky on the first fold (it knew part of those outcomes) and is noise
    after: on a month's horizon the first fold's 6 independent outcomes cannot justify it, nor
    can the first two folds' 13 (its luck did not last); selection alone would have used it."""
    rng = np.random.default_rng(16)
    block = 150
    realised = rng.standard_normal(3 * block) * 0.05
    dates = pd.bdate_range("2020-01-01", periods=3 * block)
    climatology = np.tile(np.quantile(realised, QUANTILES), (3 * block, 1))
    lucky = climatology + np.where(np.arange(3 * block) < block, 0.6 * realised, rng.standard_normal(3 * block) * 0.06)[:, None]
    frames = [pd.DataFrame(q, columns=list(QCOLS)).assign(model=m, horizon="1m", as_of_date=dates,
                                                           fold=np.repeat([0, 1, 2], block), realised=realised)
              for m, q in (("climatology", climatology), ("lucky", lucky))]
    fitted = ensemble.fit_horizon(pd.concat(frames), "1m", 21, tmp_path, try_stacking=False)
    np.testing.assert_allclose(fitted.oof[list(QCOLS)].to_numpy(), climatology[block:])
    assert dict(zip(fitted.members, fitted.weights)) == {"climatology": 1.0, "lucky": 0.0} and fitted.method == "greedy"
    # selection alone, on the first fold's outcomes, gives it weight
    first = np.stack([climatology[:block - 21], lucky[:block - 21]], axis=1)
    assert greedy_weights(first, realised[:block - 21], prior=0, prior_rounds=ensemble.reference_prior_rounds(21))[1] > 0.3


@pytest.mark.parametrize(("configured", "expected"), [("", None), ("1", 1), (" 3 ", 3)])
def test_a_fit_uses_the_cores_it_is_given(monkeypatch, configured, expected):
    from cbi_platform.lib.ml.models import CPUS_ENV, training_cpus

    monkeypatch.setenv(CPUS_ENV, configured)
    assert training_cpus() == expected


@pytest.mark.parametrize("configured", ["0", "two", "-1", "1.5", "²"])
def test_a_core_count_that_is_not_a_whole_positive_number_is_refused(monkeypatch, configured):
    from cbi_platform.lib.ml.models import CPUS_ENV, training_cpus

    monkeypatch.setenv(CPUS_ENV, configured)
    with pytest.raises(ValueError, match="CBI_TRAINING_CPUS"):
        training_cpus()


@pytest.mark.parametrize(("configured", "expected"), [("1", 1), ("", os.cpu_count())])
def test_an_autogluon_fit_runs_its_models_on_the_cores_it_is_given(tmp_path, monkeypatch, configured, expected):
    """A Dask worker's or a pod's share: more threads than cores only contend (two fits of two
    threads each on two cores ran a specialist 20x slower than alone). Unset: every core."""
    from cbi_platform.lib.ml.models import CPUS_ENV, AutoGluonQuantile

    monkeypatch.setenv(CPUS_ENV, configured)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.standard_normal(400)}).assign(y=lambda f: 0.1 * f["x"] + rng.standard_normal(400) * 0.05)
    model = AutoGluonQuantile("y", ["x"], {"GBM": {"num_boost_round": 20}}, tmp_path / "ag").fit(frame.iloc[:300], frame.iloc[300:])
    trainer = model.predictor._trainer
    assert {trainer.load_model(name).fit_num_cpus for name in trainer.get_model_names()} == {expected}


def test_autogluon_lists_the_installed_packages_once_per_process_and_records_them_unchanged(tmp_path, monkeypatch):
    """Listing ~500 distributions on every save and load was 0.65 s of a 1.5 s fit; the listing
    is read once, and each predictor's metadata.json still records the same environment."""
    import importlib.metadata
    import json

    from autogluon.common.utils.utils import get_autogluon_metadata

    from cbi_platform.lib.ml.models import AutoGluonQuantile, tabular_predictor

    listings = []
    distributions = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: listings.append(1) or distributions())
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.standard_normal(300)}).assign(y=lambda f: 0.1 * f["x"] + rng.standard_normal(300))
    for name in ("a", "b"):
        model = AutoGluonQuantile("y", ["x"], {"GBM": {"num_boost_round": 10}}, tmp_path / name).fit(frame.iloc[:200], frame.iloc[200:])
        tabular_predictor().load(str(tmp_path / name), require_version_match=True)
    assert len(listings) <= 1  # none when an earlier test in this process already listed them
    recorded = json.loads((tmp_path / "b" / "metadata.json").read_text())
    assert recorded == json.loads(json.dumps(get_autogluon_metadata())) and len(recorded["packages"]) > 100
    assert model.predict(frame.iloc[:5]).shape == (5, 5)
