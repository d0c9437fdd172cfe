"""The ensemble model's lifecycle (models/zl_ensemble) in plain Python: its version, fit per horizon
(the combination methods are lib/ml/ensemble.py) and publish, its record (out-of-fold predictions,
weights, registry rows: lib/ml/records.py), and the quality gates. Nothing here opens the warehouse."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cbi_platform.lib.ml import ensemble, records, registry
from cbi_platform.lib.ml.quantiles import (
    MIN_EFFECTIVE_OUTCOMES,
    QCOLS,
    calibrated_coverage_range,
    coverage,
    effective_outcomes,
    sequential_calibration,
)
from cbi_platform.lib.ml.skill import skill_test
from cbi_platform.lib.ml.train import TrainingConfig, data_fingerprint
from cbi_platform.lib.quality import CheckOutcome

NAME, ASSET = "zl_ensemble", "models/zl_ensemble"
# The blocking coverage gate: the 0.5-99.5% range of a perfectly calibrated forecaster's coverage
# on as many overlapping outcomes. A 5-95% range (the bench's yardstick) would block a perfect
# forecaster one time in ten per horizon, a third of all retrains over four horizons.
COVERAGE_GATE_PERCENTILES = (0.5, 99.5)
REFERENCE = "climatology"


@dataclass
class EnsembleRun:
    version: str
    horizons: dict[str, int]
    fitted: dict[str, ensemble.HorizonEnsemble]
    reference: dict[str, pd.DataFrame]  # climatology's OOF on the ensemble's evaluation dates
    paths: dict[str, str]  # where each horizon's ensemble is stored: a folder or an object-store URL
    profile: str
    data_mode: str

    @property
    def methods(self) -> dict[str, str]:
        return {h: e.method for h, e in self.fitted.items()}

    @property
    def oof(self) -> pd.DataFrame:
        frames = [e.oof.assign(horizon=h) for h, e in self.fitted.items()]
        return pd.concat(frames, ignore_index=True).assign(model=NAME, model_version=self.version)

    def weights_table(self) -> pd.DataFrame:
        rows = [{"horizon": h, "member": m, "weight": float(w), "method": e.method}
                for h, e in self.fitted.items() for m, w in zip(e.members, e.weights)]
        table = pd.DataFrame(rows)
        wide = table.pivot_table(index="member", columns="horizon", values="weight").fillna(0.0)
        return wide[list(self.fitted)].reset_index()  # horizons in their order, members sorted

    def scores_table(self) -> pd.DataFrame:
        """Honest OOF pinball per horizon: the two methods, then the members in the weights' order."""
        scores = pd.DataFrame({h: e.scores for h, e in self.fitted.items()})
        methods = [m for m in ("greedy", "stacked") if m in scores.index]
        return scores.loc[methods + sorted(set(scores.index) - set(methods))].reset_index(names="model")

    def skill(self, horizon: str):
        fitted = self.fitted[horizon]
        reference = self.reference[horizon]
        return skill_test(fitted.oof["realised"].to_numpy(), fitted.oof[list(QCOLS)].to_numpy(),
                          reference[list(QCOLS)].to_numpy(), self.horizons[horizon])

    def skill_rows(self) -> list[dict]:
        rows = []
        for horizon in self.fitted:
            test = self.skill(horizon)
            calibrated = self.calibrated(horizon)
            rows.append({"horizon": horizon, "method": self.fitted[horizon].method, "skill": test.skill,
                         "noise_band": test.band, "coverage_p10_p90": coverage(calibrated["realised"], calibrated["q10"],
                                                                               calibrated["q90"]), "rows": test.rows})
        return rows

    def calibrated(self, horizon: str) -> pd.DataFrame:
        """Sequentially calibrated ensemble forecasts, from the second evaluated fold on."""
        oof = self.fitted[horizon].oof
        calibrated = sequential_calibration(oof, self.horizons[horizon])
        return calibrated[calibrated["fold"] > calibrated["fold"].min()]


def ensemble_version(oof: pd.DataFrame, training: TrainingConfig) -> str:
    ordered = oof.sort_values(["model", "horizon", "as_of_date"]).reset_index(drop=True)
    return hashlib.sha256(f"{NAME}|{data_fingerprint(ordered)}|{training.fingerprint()}".encode()).hexdigest()[:12]


def fit(oof: pd.DataFrame, training: TrainingConfig, store_root: str | Path, data_mode: str) -> EnsembleRun:
    version = ensemble_version(oof, training)
    fitted, reference, paths = {}, {}, {}
    for horizon in training.horizons:
        path = registry.model_dir(store_root, ASSET, version, horizon)
        fitted[horizon] = ensemble.fit_horizon(oof, horizon, training.horizons[horizon], registry.working_dir(path))
        ensemble.save(fitted[horizon], registry.working_dir(path), {"version": version, "profile": training.profile})
        registry.publish(path)
        dates = set(fitted[horizon].oof["as_of_date"])
        clim = oof[(oof["model"] == REFERENCE) & (oof["horizon"] == horizon) & oof["as_of_date"].isin(dates)]
        reference[horizon] = clim.sort_values("as_of_date").reset_index(drop=True)
        paths[horizon] = path
    return EnsembleRun(version, dict(training.horizons), fitted, reference, paths, training.profile, data_mode)


def record(run: EnsembleRun) -> records.Record:
    """What the warehouse learns of the fit: out-of-fold predictions, weights and registry rows."""
    weights, rows = [], []
    for horizon, fitted in run.fitted.items():
        for member, weight in zip(fitted.members, fitted.weights):
            weights.append({"version": run.version, "horizon": horizon, "member": member, "weight": float(weight),
                            "method": fitted.method, "honest_pinball": fitted.scores.get(member)})
        test = run.skill(horizon)
        rows.append({
            "model_asset": ASSET, "model": NAME, "version": run.version, "horizon": horizon,
            "trained_at": registry.now(), "autogluon_version": registry.installed_autogluon_version(),
            "profile": run.profile, "data_fingerprint": run.version, "train_rows": int(len(fitted.oof)),
            "train_end": fitted.oof["as_of_date"].max(), "path": run.paths[horizon], "data_mode": run.data_mode,
            "metrics": {"method": fitted.method, "scores": fitted.scores, "skill_vs_climatology": test.as_dict()},
        })
    return records.Record(ASSET, NAME, run.version, ensemble.MANIFEST, rows, run.oof,
                          {"ensemble_weights": pd.DataFrame(weights)}, {"honest_scores": run.scores_table()})


@dataclass(frozen=True)
class SkillGates:
    """Skill vs climatology that real futures do not offer (config/training.yaml `skill_gates`):
    above `warn` a leakage alarm (WARN), above `block` publication stops unless a person signed
    off that ensemble version (`signed_off_versions`). Sample data is exempt: its signal is planted."""

    warn: dict[str, float]
    block: dict[str, float]
    signed_off: dict[str, dict[str, str]]


def load_skill_gates(config_dir: Path) -> SkillGates:
    from cbi_platform.lib.config import ConfigError, load_yaml

    data = load_yaml(Path(config_dir) / "training.yaml").get("skill_gates") or {}
    signed_off = {}
    for entry in data.get("signed_off_versions") or []:
        if not isinstance(entry, dict) or not all(str(entry.get(k, "")).strip() for k in ("version", "by", "reason")):
            raise ConfigError(f"training.yaml skill_gates.signed_off_versions: every entry needs version, by and reason ({entry!r})")
        signed_off[str(entry["version"])] = {"by": str(entry["by"]), "reason": str(entry["reason"])}
    return SkillGates(warn={str(k): float(v) for k, v in (data.get("warn") or {}).items()},
                      block={str(k): float(v) for k, v in (data.get("block") or {}).items()}, signed_off=signed_off)


def gates(run: EnsembleRun, data_mode: str, skill_gates: SkillGates) -> list[CheckOutcome]:
    harm, cover, thin, alarms, implausible, bands, crossing = {}, {}, {}, {}, {}, {}, 0
    for horizon, fitted in run.fitted.items():
        test = run.skill(horizon)
        if test.worse_beyond_noise:
            harm[horizon] = {"skill": round(test.skill, 4), "noise_band": round(test.band, 4)}
        if data_mode != "sample" and test.skill > skill_gates.warn.get(horizon, math.inf):
            alarms[horizon] = round(test.skill, 4)
        if data_mode != "sample" and test.skill > skill_gates.block.get(horizon, math.inf):
            implausible[horizon] = {"skill": round(test.skill, 4), "limit": skill_gates.block[horizon]}
        values = fitted.oof[list(QCOLS)].to_numpy()
        crossing += int(np.sum(np.any(np.diff(values, axis=1) < 0, axis=1)) + np.sum(~np.isfinite(values)))
        calibrated = run.calibrated(horizon)
        rate = coverage(calibrated["realised"], calibrated["q10"], calibrated["q90"])
        independent = effective_outcomes(len(calibrated), run.horizons[horizon])
        if independent < MIN_EFFECTIVE_OUTCOMES:
            # a coverage over two independent outcomes is about 0, 0.5 or 1: no range can judge it
            thin[horizon] = bands[horizon] = {"coverage": round(rate, 3), "independent_outcomes": round(independent, 1),
                                              "range": "insufficient evidence"}
            continue
        low, high = calibrated_coverage_range(len(calibrated), run.horizons[horizon], percentiles=COVERAGE_GATE_PERCENTILES)
        bands[horizon] = {"coverage": round(rate, 3), "range": [round(low, 3), round(high, 3)]}
        if not low <= rate <= high:
            cover[horizon] = bands[horizon]
    skills = {h: round(run.skill(h).skill, 4) for h in run.fitted}
    return [
        CheckOutcome("do_no_harm", not harm,
                     "worse than climatology beyond the noise band: " + "; ".join(
                         f"{h} skill {v['skill']:+.1%} (noise band {v['noise_band']:.1%})" for h, v in harm.items())
                     if harm else "no worse than climatology beyond the noise band, every horizon",
                     metadata={"worse_horizons": harm or "none", "skill_by_horizon": skills}),
        CheckOutcome("coverage_in_band", not cover and not thin, _coverage_verdict(cover, thin),
                     severity="WARN" if thin and not cover else "ERROR",
                     metadata={"out_of_range": cover or "none", "insufficient_evidence": thin or "none",
                               "by_horizon": bands}),
        CheckOutcome("quantiles_ordered", crossing == 0, "no crossing or non-finite quantiles",
                     metadata={"offending_rows": crossing}),
        CheckOutcome("leakage_alarm", not alarms,
                     "on real data, skill vs climatology above " + _limits(skill_gates.warn) + " is a leakage alarm to investigate",
                     severity="WARN", metadata={"suspicious_horizons": alarms or "none", "data_mode": data_mode}),
        CheckOutcome("implausible_skill", not implausible or run.version in skill_gates.signed_off,
                     "on real data, skill vs climatology above " + _limits(skill_gates.block) + " blocks publication "
                     "until a person signs the ensemble version off (config/training.yaml skill_gates)",
                     metadata={"implausible_horizons": implausible or "none", "data_mode": data_mode, "version": run.version,
                               "signed_off": skill_gates.signed_off.get(run.version, "no")}),
    ]


def _coverage_verdict(cover: dict, thin: dict) -> str:
    """What the coverage gate found, in words: failures first, then what it could not judge."""
    parts = [f"{h} covered {v['coverage']:.1%}, outside {v['range'][0]:.1%}-{v['range'][1]:.1%}" for h, v in cover.items()]
    parts += [f"{h}: insufficient evidence ({v['independent_outcomes']:g} independent outcomes, "
              f"{MIN_EFFECTIVE_OUTCOMES} needed; covered {v['coverage']:.1%})" for h, v in thin.items()]
    return ("; ".join(parts) if parts else "calibrated P10-P90 coverage inside the 0.5-99.5% range of a perfectly "
            "calibrated forecaster on as many overlapping outcomes, every horizon")


def _limits(limits: dict[str, float]) -> str:
    return ", ".join(f"+{v:.0%} at {h}" for h, v in limits.items()) or "no limit"
