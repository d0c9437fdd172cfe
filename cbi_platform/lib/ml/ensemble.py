"""The ensemble over specialists, the main model and the baselines, chosen on out-of-fold
pinball loss, honestly.

Two methods, compared per horizon on the same honest footing:
- greedy: forward selection with replacement (Caruana et al.) of members' quantile forecasts,
  averaged quantile by quantile; the weights are selection counts;
- stacked: an AutoGluon quantile model on the members' out-of-fold quantiles.

Both are refit block by block over the walk-forward folds: the ensemble for fold k is chosen on
the forecasts of folds before k whose outcomes were already known when fold k began (the last
h-day outcomes of fold k-1 resolve inside fold k), so the ensemble's own out-of-fold forecasts
(folds 1..K-1) never saw their outcomes, nor any outcome realised after they were made. The
better method per horizon on those forecasts is kept; the final weights (or stacker) are refit
on every fold for live use.

Do no harm: climatology is the default, and the ensemble departs from it only on evidence. An
ensemble (for a fold, or the final one) is climatology alone unless, on the outcomes it may learn
from, there are at least MIN_EFFECTIVE_OUTCOMES independent ones and the greedy combination beat
climatology on them beyond the noise band. Futures are close to a random walk: on a year of
evidence, selection alone finds members that look better and are not (the null world's first
fold lost 4% to climatology at every horizon that way).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.models import fit_resources, tabular_predictor
from cbi_platform.lib.ml.quantiles import (
    MIN_EFFECTIVE_OUTCOMES,
    QCOLS,
    QUANTILES,
    effective_outcomes,
    pinball,
    resolved_before,
    sort_quantiles,
)
from cbi_platform.lib.ml.skill import skill_test

GREEDY_ROUNDS = 30
REFERENCE = "climatology"
WEEKLY_PRIOR_ROUNDS = 10  # at 1w climatology starts with 10 of 40 picks: at least a quarter of the weight


def reference_prior_rounds(horizon_days: int) -> int:
    """How many picks climatology starts with. The evidence against it is out-of-fold pinball
    loss over overlapping outcomes, whose noise grows with the square root of the horizon; so
    does the prior: 10 at 1w, 20 at 1m, 35 at 3m, 50 at 6m. Chosen on pre-2000 data only (real ZL
    1959-1999, walk-forward test years 1989-1999, among five variants, the one whose coverage met
    the yardstick at every horizon with the best worst-horizon skill)."""
    return int(round(WEEKLY_PRIOR_ROUNDS * math.sqrt(horizon_days / 5)))


def member_matrix(oof: pd.DataFrame, horizon: str) -> tuple[pd.DataFrame, list[str]]:
    """Wide frame for one horizon: as_of_date, fold, realised, and <member>__<q> columns, only
    dates every member forecast."""
    part = oof[oof["horizon"] == horizon]
    members = sorted(part["model"].unique())
    wide = part.pivot_table(index=["as_of_date", "fold"], columns="model", values=list(QCOLS))
    wide.columns = [f"{model}__{q}" for q, model in wide.columns]
    realised = part.groupby(["as_of_date", "fold"])["realised"].first()
    wide = wide.join(realised).dropna().reset_index().sort_values("as_of_date").reset_index(drop=True)
    return wide, members


def stack(wide: pd.DataFrame, members: list[str]) -> np.ndarray:
    """(n, members, quantiles) array of member forecasts."""
    return np.stack([wide[[f"{m}__{q}" for q in QCOLS]].to_numpy() for m in members], axis=1)


def greedy_weights(forecasts: np.ndarray, realised: np.ndarray, rounds: int = GREEDY_ROUNDS,
                   prior: int | None = None, prior_rounds: int = 0) -> np.ndarray:
    """Forward selection with replacement minimising mean pinball of the quantile average. With a
    `prior` member, selection starts from it already picked `prior_rounds` times: the others
    must earn weight against it, which shrinks the ensemble toward the reference when the
    out-of-fold evidence is thin (a few hundred overlapping outcomes)."""
    n_members = forecasts.shape[1]
    counts = np.zeros(n_members)
    running = np.zeros_like(forecasts[:, 0, :])
    if prior is not None and prior_rounds:
        counts[prior] = prior_rounds
        running = forecasts[:, prior, :].copy()
    for _ in range(rounds):
        step = counts.sum() + 1
        losses = [pinball(realised, (running * (step - 1) + forecasts[:, m, :]) / step).mean() for m in range(n_members)]
        best = int(np.argmin(losses))
        counts[best] += 1
        running = (running * (step - 1) + forecasts[:, best, :]) / step
    return counts / counts.sum()


def departure_earned(forecasts: np.ndarray, realised: np.ndarray, weights: np.ndarray, reference: int,
                     horizon_days: int) -> bool:
    """Whether the evidence allows leaving the reference for these weights: enough independent
    outcomes to judge, and the combination better than the reference on them beyond the noise
    band. In-sample, so optimistic: a floor on the evidence, not a promise of skill."""
    if effective_outcomes(len(realised), horizon_days) < MIN_EFFECTIVE_OUTCOMES:
        return False
    return skill_test(realised, combine(forecasts, weights), forecasts[:, reference, :], horizon_days).better_beyond_noise


def combine(forecasts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return sort_quantiles(np.einsum("nmq,m->nq", forecasts, weights))


@dataclass
class Stacker:
    """AutoGluon quantile model on the members' quantiles (few rows: small, regularised)."""

    members: list[str]
    path: Path
    predictor: Any = field(default=None, repr=False)

    HYPERPARAMETERS = {"GBM": {"num_boost_round": 60, "learning_rate": 0.05, "num_leaves": 4, "min_data_in_leaf": 40}}

    def features(self, wide: pd.DataFrame) -> pd.DataFrame:
        return wide[[f"{m}__{q}" for m in self.members for q in QCOLS]]

    def fit(self, wide: pd.DataFrame) -> "Stacker":
        data = self.features(wide).assign(realised=wide["realised"].to_numpy())
        cut = int(len(data) * 0.8)
        self.predictor = tabular_predictor()(label="realised", problem_type="quantile", quantile_levels=list(QUANTILES),
                                          eval_metric="pinball_loss", path=str(self.path), verbosity=0).fit(
            data.iloc[:cut], tuning_data=data.iloc[cut:], hyperparameters=self.HYPERPARAMETERS, num_bag_folds=0,
            num_stack_levels=0, fit_weighted_ensemble=False, ag_args_fit=fit_resources())
        return self

    def predict(self, wide: pd.DataFrame) -> np.ndarray:
        predicted = self.predictor.predict(self.features(wide))
        return sort_quantiles(predicted[list(QUANTILES)].to_numpy())


@dataclass
class HorizonEnsemble:
    horizon: str
    members: list[str]
    method: str  # greedy | stacked
    weights: np.ndarray  # final greedy weights (kept for both methods: the UI shows them)
    stacker: Stacker | None
    oof: pd.DataFrame  # as_of_date, fold, q.., realised: honest ensemble forecasts (folds after the first)
    scores: dict[str, float]  # method -> honest OOF pinball; plus each member's on the same dates

    def predict(self, wide: pd.DataFrame) -> np.ndarray:
        if self.method == "stacked" and self.stacker is not None:
            return self.stacker.predict(wide)
        return combine(stack(wide, self.members), self.weights)


def fit_horizon(oof: pd.DataFrame, horizon: str, horizon_days: int, workdir: Path,
                try_stacking: bool = True) -> HorizonEnsemble:
    wide, members = member_matrix(oof, horizon)
    folds = sorted(wide["fold"].unique())
    if len(folds) < 2:
        raise ValueError(f"ensemble {horizon}: needs out-of-fold forecasts from at least two walk-forward folds")
    forecasts, realised = stack(wide, members), wide["realised"].to_numpy()
    prior = members.index(REFERENCE) if REFERENCE in members else None
    rounds = reference_prior_rounds(horizon_days)

    def select(f: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, bool]:
        """(weights, departed): the greedy weights, or the reference alone when departing is not earned."""
        weights = greedy_weights(f, r, prior=prior, prior_rounds=rounds)
        if prior is None or departure_earned(f, r, weights, prior, horizon_days):
            return weights, True
        return np.eye(len(members))[prior], False

    honest = {"greedy": [], "stacked": []}
    for fold in folds[1:]:
        past, now = resolved_before(wide["fold"].to_numpy(), fold, horizon_days), (wide["fold"] == fold).to_numpy()
        if not past.any():
            raise ValueError(f"ensemble {horizon}: no outcome of an earlier fold is known before fold {fold} begins; "
                             f"test blocks must be longer than the {horizon_days}-session horizon")
        weights, departed = select(forecasts[past], realised[past])
        honest["greedy"].append(combine(forecasts[now], weights))
        if try_stacking:
            # the stacker may only depart from the reference where the evidence allowed the greedy to
            stacked = Stacker(members, workdir / f"stack_{horizon}_fold{fold}").fit(wide[past]).predict(wide[now]) \
                if departed else combine(forecasts[now], weights)
            honest["stacked"].append(stacked)
    evaluated = (wide["fold"] > folds[0]).to_numpy()
    scores = {method: float(pinball(realised[evaluated], np.concatenate(parts)).mean())
              for method, parts in honest.items() if parts}
    for k, member in enumerate(members):
        scores[member] = float(pinball(realised[evaluated], forecasts[evaluated, k, :]).mean())
    method = min(("greedy", "stacked"), key=lambda m: scores.get(m, np.inf))
    final_weights, departed = select(forecasts, realised)
    if not departed:
        method = "greedy"  # the reference alone, whichever method scored better on the folds
    stacker = Stacker(members, workdir / f"stack_{horizon}_final").fit(wide) if method == "stacked" else None
    frame = pd.DataFrame(np.concatenate(honest[method]), columns=list(QCOLS))
    frame.insert(0, "as_of_date", wide.loc[evaluated, "as_of_date"].to_numpy())
    frame.insert(1, "fold", wide.loc[evaluated, "fold"].to_numpy())
    frame["realised"] = realised[evaluated]
    return HorizonEnsemble(horizon, members, method, final_weights, stacker, frame, scores)


MANIFEST = "ensemble.json"


def save(ensemble: HorizonEnsemble, path: Path, manifest: dict) -> None:
    """Persist what live forecasting needs: members, method, weights (and the stacker, which
    AutoGluon saved under its own path)."""
    import json

    path.mkdir(parents=True, exist_ok=True)
    body = {**manifest, "horizon": ensemble.horizon, "members": ensemble.members, "method": ensemble.method,
            "weights": dict(zip(ensemble.members, map(float, ensemble.weights))),
            # relative: the folder is read back where it is fetched to (another machine, a cache)
            "stacker_path": os.path.relpath(ensemble.stacker.path, path) if ensemble.stacker else None,
            "scores": ensemble.scores}
    (path / MANIFEST).write_text(json.dumps(body, indent=1))


@dataclass
class LoadedEnsemble:
    members: list[str]
    method: str
    weights: np.ndarray
    stacker: Stacker | None

    def predict(self, wide: pd.DataFrame) -> np.ndarray:
        if self.method == "stacked" and self.stacker is not None:
            return self.stacker.predict(wide)
        return combine(stack(wide, self.members), self.weights)


def load(path: Path) -> LoadedEnsemble:
    import json

    body = json.loads((Path(path) / MANIFEST).read_text())
    members = list(body["members"])
    stacker = None
    if body["method"] == "stacked":
        stacker_path = Path(path) / body["stacker_path"]  # an absolute path (older manifests) stays as it is
        stacker = Stacker(members, stacker_path)
        stacker.predictor = tabular_predictor().load(str(stacker_path), require_version_match=True)
    return LoadedEnsemble(members, body["method"], np.array([body["weights"][m] for m in members]), stacker)
