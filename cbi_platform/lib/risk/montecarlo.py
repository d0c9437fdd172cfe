"""Monte Carlo scenarios from forecast quantiles, and VaR / CVaR.

The quantile function per horizon is monotone: linear between the forecast levels
(0.05 .. 0.95) and exponential beyond them, with tail scales fitted to historical out-of-fold
exceedances (the mean distance by which outcomes fell beyond the forecast P5 / P95: the
maximum-likelihood scale of an exponential excess). Scenarios are drawn by inverse CDF with
*shared uniforms* across horizons (a comonotone copula): a path in the worst 1% at one
horizon is in the worst 1% at every horizon, so horizons never contradict each other.
Everything is vectorised; no Python loop over scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbi_platform.lib.ml.quantiles import QUANTILES

LOW, HIGH = QUANTILES[0], QUANTILES[-1]
TAIL_ASSUMPTION = "linear inside P5-P95; exponential tails beyond, scale = mean historical OOF excess; comonotone across horizons"


@dataclass(frozen=True)
class TailScales:
    lower: float
    upper: float

    @classmethod
    def fit(cls, realised: np.ndarray, q_low: np.ndarray, q_high: np.ndarray, floor: float) -> "TailScales":
        """Mean excess beyond the forecast P5 / P95 on historical outcomes (with a floor when
        too few exceedances exist to estimate it)."""
        realised, q_low, q_high = (np.asarray(a, dtype=float) for a in (realised, q_low, q_high))
        below = q_low - realised
        above = realised - q_high
        lower = below[below > 0].mean() if np.sum(below > 0) >= 5 else floor
        upper = above[above > 0].mean() if np.sum(above > 0) >= 5 else floor
        return cls(float(max(lower, floor * 0.25)), float(max(upper, floor * 0.25)))


def quantile_function(u: np.ndarray, grid: np.ndarray, tails: TailScales, levels=QUANTILES) -> np.ndarray:
    """Q(u) for probabilities u (any shape) given one horizon's quantile grid."""
    u = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
    grid = _monotone(grid)
    inside = np.interp(u, levels, grid)
    lower = grid[0] + tails.lower * _log_lower(u, levels)
    upper = grid[-1] - tails.upper * _log_upper(u, levels)
    return np.where(u < levels[0], lower, np.where(u > levels[-1], upper, inside))


def _monotone(grid: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(np.asarray(grid, dtype=float))  # monotone even if handed a crossing grid


def _log_lower(u: np.ndarray, levels) -> np.ndarray:
    """The exponential lower tail's log term: Q(u) = Q(p_min) + scale * log(u / p_min)."""
    return np.log(u / levels[0])


def _log_upper(u: np.ndarray, levels) -> np.ndarray:
    return np.log((1 - u) / (1 - levels[-1]))


def draw_uniforms(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def scenarios(grids: np.ndarray, tails: list[TailScales], n: int, seed: int = 0, levels=QUANTILES) -> np.ndarray:
    """(n, horizons) log-return scenarios; one shared uniform per scenario across horizons.

    Equal to `quantile_function` per horizon, but the shared uniforms let the tails' masks and
    logarithms (10% of the draws) be computed once for all horizons."""
    u = np.clip(draw_uniforms(n, seed), 1e-12, 1 - 1e-12)
    low, high = np.flatnonzero(u < levels[0]), np.flatnonzero(u > levels[-1])
    log_low, log_high = _log_lower(u[low], levels), _log_upper(u[high], levels)
    out = np.empty((len(grids), n))
    for h, (grid, tail) in enumerate(zip(grids, tails)):
        grid = _monotone(grid)
        out[h] = np.interp(u, levels, grid)
        out[h, low] = grid[0] + tail.lower * log_low
        out[h, high] = grid[-1] - tail.upper * log_high
    return out.T


def var_cvar(returns: np.ndarray, level: float) -> tuple[float, float]:
    """VaR and CVaR (expected shortfall) of a long position, as positive losses in log return."""
    returns = np.asarray(returns, dtype=float)
    cutoff = np.quantile(returns, 1 - level)
    tail = returns[returns <= cutoff]
    return float(-cutoff), float(-tail.mean())


def analytic_var_cvar(grid: np.ndarray, tails: TailScales, level: float, points: int = 4000) -> tuple[float, float]:
    """VaR and CVaR straight from the quantile function: VaR = -Q(1-level), CVaR = the mean of
    -Q(u) over u < 1-level (midpoint rule on a fine grid). No sampling noise."""
    alpha = 1 - level
    var = -float(quantile_function(np.array([alpha]), grid, tails)[0])
    u = (np.arange(points) + 0.5) / points * alpha
    cvar = -float(quantile_function(u, grid, tails).mean())
    return var, cvar


def usd_loss(log_return_loss: float, price: float, contract_size: float, price_unit: float, long: bool = True) -> float:
    """Loss in dollars of one contract for a loss expressed as a (positive) log return: a fall
    of that size for a long position, a rise for a short one. price_unit: dollars per quoted
    unit (0.01 for prices in cents)."""
    value = price * price_unit * contract_size
    return float(value * (1.0 - np.exp(-log_return_loss)) if long else value * (np.exp(log_return_loss) - 1.0))


def position_var_cvar(grid: np.ndarray, tails: TailScales, level: float, long: bool, points: int = 4000) -> tuple[float, float]:
    """VaR and CVaR as positive log-return losses for a long (left tail) or short (right tail)
    position."""
    if long:
        return analytic_var_cvar(grid, tails, level, points)
    alpha = 1 - level
    var = float(quantile_function(np.array([level]), grid, tails)[0])
    u = 1 - (np.arange(points) + 0.5) / points * alpha
    return var, float(quantile_function(u, grid, tails).mean())
