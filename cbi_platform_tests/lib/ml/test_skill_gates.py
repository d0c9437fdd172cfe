"""The ensemble's skill gates: skill that real futures do not offer warns, then blocks
publication on real data until a person signs that version off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cbi_platform.lib.config import ConfigError
from cbi_platform.lib.ml import ensemble_model
from cbi_platform.lib.ml.ensemble import HorizonEnsemble
from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES
from cbi_platform_tests.conftest import CONFIG_DIR

DAYS = 1500


def forecasts(realised: np.ndarray, centre: np.ndarray, scale: float) -> pd.DataFrame:
    frame = pd.DataFrame({"as_of_date": pd.bdate_range("2000-01-03", periods=len(realised)).date,
                          "fold": np.repeat(np.arange(6), -(-len(realised) // 6))[:len(realised)], "realised": realised})
    for column, q in zip(QCOLS, QUANTILES):
        frame[column] = centre + scale * norm.ppf(q)
    return frame


def run_with_ensemble_error(error_scale: float, version: str = "v1", horizon: str = "1m",
                            days: int = 21) -> ensemble_model.EnsembleRun:
    """1m forecasts of a random walk: climatology knows the spread; the ensemble knows the outcome
    up to `error_scale` times the spread (1.0: no skill; 0.5: a skill no real market gives)."""
    rng = np.random.default_rng(3)
    sd = 0.02 * np.sqrt(21)
    realised = rng.standard_normal(DAYS) * sd
    reference = forecasts(realised, np.zeros(DAYS), sd)
    noise = rng.standard_normal(DAYS) * sd * error_scale
    centre = realised * (1 - error_scale ** 2) + noise * np.sqrt(1 - error_scale ** 2) if error_scale < 1 else np.zeros(DAYS)
    oof = forecasts(realised, centre, sd * error_scale)
    fitted = HorizonEnsemble(horizon, ["zl_main"], "greedy", np.array([1.0]), None, oof, {})
    return ensemble_model.EnsembleRun(version, {horizon: days}, {horizon: fitted}, {horizon: reference},
                                         {horizon: Path("unused")}, "fast", "files")


GATES = ensemble_model.SkillGates(warn={"1m": 0.05}, block={"1m": 0.10}, signed_off={})


def outcome(run, data_mode="files", gates=GATES):
    return {o.name: o for o in ensemble_model.gates(run, data_mode, gates)}


def test_implausible_skill_on_real_data_blocks_and_warns():
    run = run_with_ensemble_error(0.5)
    assert run.skill("1m").skill > 0.3
    checks = outcome(run)
    assert not checks["implausible_skill"].passed and checks["implausible_skill"].severity == "ERROR"
    assert not checks["leakage_alarm"].passed and checks["leakage_alarm"].severity == "WARN"
    assert checks["implausible_skill"].metadata["implausible_horizons"]["1m"]["limit"] == 0.10


def test_no_skill_passes_and_sample_data_is_exempt():
    assert outcome(run_with_ensemble_error(1.0))["implausible_skill"].passed
    assert outcome(run_with_ensemble_error(0.5), data_mode="sample")["implausible_skill"].passed


def test_a_sign_off_applies_to_its_version_only():
    gates = ensemble_model.SkillGates(warn={}, block={"1m": 0.10},
                                         signed_off={"v1": {"by": "A. Analyst", "reason": "verified on unseen years"}})
    assert outcome(run_with_ensemble_error(0.5, "v1"), gates=gates)["implausible_skill"].passed
    assert not outcome(run_with_ensemble_error(0.5, "v2"), gates=gates)["implausible_skill"].passed


def test_the_configured_limits_are_the_documented_ones(tmp_path):
    gates = ensemble_model.load_skill_gates(CONFIG_DIR)
    assert gates.block == {"1w": 0.10, "1m": 0.10, "3m": 0.15, "6m": 0.15} and gates.warn == {"1w": 0.05, "1m": 0.05}
    (tmp_path / "training.yaml").write_text("skill_gates:\n  signed_off_versions: [{version: abc}]\n")
    with pytest.raises(ConfigError, match="version, by and reason"):
        ensemble_model.load_skill_gates(tmp_path)


def test_the_coverage_gate_is_the_calibrated_forecasters_range():
    assert outcome(run_with_ensemble_error(1.0))["coverage_in_band"].passed
    # volatility triples after the first two folds: calibration learnt on earlier folds lags, the
    # intervals cover far less than 80%, beyond what chance gives a calibrated forecaster
    run = run_with_ensemble_error(1.0)
    for frame in (run.fitted["1m"].oof, run.reference["1m"]):
        later = frame["fold"] >= 2
        frame.loc[later, "realised"] *= 3
    checks = outcome(run)
    band = checks["coverage_in_band"].metadata["by_horizon"]["1m"]
    assert not checks["coverage_in_band"].passed and band["coverage"] < band["range"][0] < 0.8
    assert checks["coverage_in_band"].severity == "ERROR"
    assert checks["coverage_in_band"].description == (
        f"1m covered {band['coverage']:.1%}, outside {band['range'][0]:.1%}-{band['range'][1]:.1%}")


def test_coverage_on_too_few_independent_outcomes_is_insufficient_evidence_not_a_pass():
    """1,250 calibrated daily forecasts of 6-month outcomes hold 9.9 independent outcomes: a
    range wide enough for that many would accept almost anything."""
    check = outcome(run_with_ensemble_error(1.0, horizon="6m", days=126))["coverage_in_band"]
    assert not check.passed and check.severity == "WARN"
    assert check.metadata["insufficient_evidence"]["6m"]["independent_outcomes"] == 9.9
    assert check.description.startswith("6m: insufficient evidence (9.9 independent outcomes, 10 needed; covered ")


def test_weights_and_scores_show_horizons_in_order_and_members_alike():
    one_week, one_month = run_with_ensemble_error(1.0, horizon="1w", days=5), run_with_ensemble_error(1.0)
    for run in (one_week, one_month):
        fitted = next(iter(run.fitted.values()))
        fitted.members, fitted.weights = ["zl_main", "climatology"], np.array([0.4, 0.6])
        fitted.scores.update({"greedy": 1.0, "zl_main": 1.2, "climatology": 1.1})
    run = ensemble_model.EnsembleRun("v", {"1w": 5, "1m": 21}, {**one_week.fitted, **one_month.fitted},
                                        {}, {}, "fast", "sample")
    weights, scores = run.weights_table(), run.scores_table()
    assert list(weights.columns) == ["member", "1w", "1m"] and list(scores.columns) == ["model", "1w", "1m"]
    assert weights["member"].tolist() == ["climatology", "zl_main"]
    assert scores["model"].tolist() == ["greedy", "climatology", "zl_main"]
