"""Skill against a reference forecast, with a noise band that respects overlapping targets.

Forecasts of h-day returns made on consecutive days share h-1 days of outcome, so their losses
are strongly autocorrelated: a naive standard error is far too small. The band comes from a
moving-block bootstrap of the per-day loss differences with blocks as long as the horizon, and
never shorter than a month: models' forecasts move with slow features (and volatility clusters),
so even 1-week loss differences stay correlated for weeks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from cbi_platform.lib.ml.quantiles import pinball

Z_ONE_SIDED_95 = 1.645
MIN_BLOCK_DAYS = 21


@dataclass(frozen=True)
class SkillTest:
    skill: float  # 1 - loss / reference loss (positive: better than the reference)
    mean_loss: float
    reference_loss: float
    mean_difference: float  # loss - reference loss (negative: better)
    standard_error: float  # moving-block bootstrap
    band: float  # one-sided 95% noise band on the skill
    rows: int
    independent_outcomes: int  # rows / horizon: under ~10 the band itself is unreliable (few blocks)

    @property
    def worse_beyond_noise(self) -> bool:
        return self.skill < -self.band

    @property
    def better_beyond_noise(self) -> bool:
        return self.skill > self.band

    def as_dict(self) -> dict:
        return {**asdict(self), "worse_beyond_noise": self.worse_beyond_noise, "better_beyond_noise": self.better_beyond_noise}


def block_bootstrap_se(values: np.ndarray, block: int, resamples: int = 500, seed: int = 0) -> float:
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan")
    block = max(1, min(block, n))
    rng = np.random.default_rng(seed)
    blocks_needed = int(np.ceil(n / block))
    starts = rng.integers(0, n - block + 1, size=(resamples, blocks_needed))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)[:, :n]
    return float(values[index].mean(axis=1).std(ddof=1))


def skill_test(realised: np.ndarray, forecast: np.ndarray, reference: np.ndarray, horizon_days: int) -> SkillTest:
    losses = pinball(realised, forecast)
    reference_losses = pinball(realised, reference)
    difference = losses - reference_losses
    se = block_bootstrap_se(difference, block=max(horizon_days, MIN_BLOCK_DAYS))
    reference_mean = float(reference_losses.mean())
    return SkillTest(
        skill=float(1.0 - losses.mean() / reference_mean),
        mean_loss=float(losses.mean()),
        reference_loss=reference_mean,
        mean_difference=float(difference.mean()),
        standard_error=se,
        band=float(Z_ONE_SIDED_95 * se / reference_mean),
        rows=int(len(losses)),
        independent_outcomes=int(len(losses) // max(horizon_days, 1)),
    )
