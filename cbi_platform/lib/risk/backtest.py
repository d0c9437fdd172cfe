"""VaR backtests on realised outcomes: exceedance counts, Kupiec's proportion-of-failures test,
Christoffersen's independence test and the Basel traffic light.

Forecasts of h-day returns made on consecutive days overlap; overlapping outcomes are not
independent, and both tests assume independence. Each horizon is therefore backtested on
non-overlapping forecasts (every h-th trading day): honest, at the cost of few observations at
long horizons (about two a year at 6 months), so the tests have little power there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class VarBacktest:
    level: float
    observations: int
    exceedances: int
    expected: float
    kupiec_lr: float
    kupiec_p: float
    christoffersen_lr: float
    christoffersen_p: float
    zone: str  # green | yellow | red (Basel traffic light, scaled to the sample size) | insufficient

    @property
    def needed_observations(self) -> int:
        """Observations before one exceedance is expected: fewer cannot show a model is right."""
        return int(np.ceil(1.0 / (1.0 - self.level) - 1e-9))

    def summary(self) -> str:
        plural = "" if self.exceedances == 1 else "s"
        return (f"{self.exceedances} exceedance{plural} in {self.observations} non-overlapping observations "
                f"({self.expected:.2f} expected at {self.level:.0%})")

    def as_dict(self) -> dict:
        return asdict(self)


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * np.log(y)


def kupiec(exceedances: int, observations: int, p: float) -> tuple[float, float]:
    """Likelihood-ratio test that the exceedance rate equals p."""
    x, n = exceedances, observations
    if n == 0:
        return float("nan"), float("nan")
    observed = x / n
    lr = -2.0 * (_xlogy(n - x, 1 - p) + _xlogy(x, p) - _xlogy(n - x, 1 - observed) - _xlogy(x, observed))
    lr = max(lr, 0.0)
    return float(lr), float(stats.chi2.sf(lr, 1))


def christoffersen(hits: np.ndarray) -> tuple[float, float]:
    """Likelihood-ratio test that exceedances do not cluster (first-order Markov alternative)."""
    hits = np.asarray(hits, dtype=int)
    if len(hits) < 2:
        return float("nan"), float("nan")
    prev, curr = hits[:-1], hits[1:]
    n00 = int(np.sum((prev == 0) & (curr == 0)))
    n01 = int(np.sum((prev == 0) & (curr == 1)))
    n10 = int(np.sum((prev == 1) & (curr == 0)))
    n11 = int(np.sum((prev == 1) & (curr == 1)))
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    restricted = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    unrestricted = _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    lr = max(-2.0 * (restricted - unrestricted), 0.0)
    return float(lr), float(stats.chi2.sf(lr, 1))


def traffic_light(exceedances: int, observations: int, p: float) -> str:
    """Basel zones by the binomial probability of seeing at most this many exceedances if the
    model were right: green below 95%, yellow below 99.99%, red beyond. With 250 observations
    at 99% this is the familiar green 0-4, yellow 5-9, red 10 or more. No exceedance is never
    evidence of understated risk: with few observations (4 six-month windows) P(X <= 0) alone
    passes 95%, which the plain rule would call yellow. Nor is it evidence of a right model when
    not even one exceedance is expected (fewer than 1/p observations): that is "insufficient",
    never green. Yellow and red stand on any sample size: they are evidence."""
    cumulative = stats.binom.cdf(exceedances, observations, p) if observations and exceedances else 0.0
    if cumulative < 0.95:
        return "green" if observations * p >= 1.0 - 1e-9 else "insufficient"
    return "yellow" if cumulative < 0.9999 else "red"


def backtest(realised: np.ndarray, var: np.ndarray, level: float) -> VarBacktest:
    """`realised` log returns of a long position and the VaR forecast for each (positive loss)."""
    realised, var = np.asarray(realised, dtype=float), np.asarray(var, dtype=float)
    hits = (-realised > var).astype(int)
    p = 1.0 - level
    lr_pof, p_pof = kupiec(int(hits.sum()), len(hits), p)
    lr_ind, p_ind = christoffersen(hits)
    return VarBacktest(level, int(len(hits)), int(hits.sum()), float(len(hits) * p), lr_pof, p_pof, lr_ind, p_ind,
                       traffic_light(int(hits.sum()), len(hits), p))


@dataclass(frozen=True)
class DynamicQuantileTest:
    statistic: float
    p_value: float
    lags: int
    observations: int  # after dropping the lags

    def as_dict(self) -> dict:
        return asdict(self)


def dynamic_quantile(realised: np.ndarray, var: np.ndarray, level: float, lags: int = 4) -> DynamicQuantileTest:
    """Engle and Manganelli's (2004) DQ test: demeaned hits Hit_t = 1{loss_t > VaR_t} - p are
    regressed on a constant, `lags` lagged hits and the VaR forecast itself (left out when
    constant); under a right VaR DQ = Hit' X (X'X)^-1 X' Hit / (p(1-p)) is chi-squared with as
    many degrees of freedom as regressors. It
    rejects a wrong rate, clustered exceedances and exceedances that depend on the VaR level,
    which the counts alone do not see. NaN when the regression is singular (no exceedance
    varies it, or too few observations)."""
    realised, var = np.asarray(realised, dtype=float), np.asarray(var, dtype=float)
    p = 1.0 - level
    hit = (-realised > var).astype(float) - p
    n = len(hit) - lags
    if n <= lags + 2:
        return DynamicQuantileTest(float("nan"), float("nan"), lags, max(n, 0))
    columns = [np.ones(n)] + [hit[lags - k:len(hit) - k] for k in range(1, lags + 1)]
    if np.ptp(var[lags:]) > 0:  # a constant VaR is the constant column again
        columns.append(var[lags:])
    design, target = np.column_stack(columns), hit[lags:]
    gram = design.T @ design
    if np.linalg.matrix_rank(gram) < design.shape[1]:
        return DynamicQuantileTest(float("nan"), float("nan"), lags, n)
    projected = design.T @ target
    statistic = float(projected @ np.linalg.solve(gram, projected) / (p * (1 - p)))
    return DynamicQuantileTest(statistic, float(stats.chi2.sf(statistic, design.shape[1])), lags, n)


def acerbi_szekely_z2(realised: np.ndarray, var: np.ndarray, es: np.ndarray, level: float) -> float:
    """Acerbi and Szekely's (2014) Z2 = sum_t X_t 1{X_t < -VaR_t} / (T (1 - level) ES_t) + 1, with X
    the realised return and VaR, ES as positive losses. Zero in expectation when the ES is right,
    negative when losses beyond VaR are deeper or more frequent than forecast."""
    realised, var, es = (np.asarray(a, dtype=float) for a in (realised, var, es))
    alpha = 1.0 - level
    hits = realised < -var
    return float(np.sum(realised * hits / es) / (len(realised) * alpha) + 1.0)


@dataclass(frozen=True)
class ExpectedShortfallTest:
    z2: float
    p_value: float  # P(Z2 <= observed) under the forecast distributions, by simulation
    observations: int
    expected_exceedances: float
    simulations: int

    def as_dict(self) -> dict:
        return asdict(self)


def es_backtest(realised: np.ndarray, var: np.ndarray, es: np.ndarray, level: float, forecast_draws: np.ndarray,
                simulations: int = 2000, seed: int = 0) -> ExpectedShortfallTest:
    """Z2 and its p-value: outcomes are redrawn from each day's own forecast distribution
    (`forecast_draws`: one row per day, equiprobable draws of its return, e.g. its quantile
    function on a fine grid), Z2 recomputed with the same VaR and ES, `simulations` times."""
    realised, var, es = (np.asarray(a, dtype=float) for a in (realised, var, es))
    observed = acerbi_szekely_z2(realised, var, es, level)
    draws = np.asarray(forecast_draws, dtype=float)
    rng = np.random.default_rng(seed)
    rows = np.arange(len(realised))
    simulated = np.empty(simulations)
    for k in range(simulations):
        picked = draws[rows, rng.integers(0, draws.shape[1], len(rows))]
        simulated[k] = acerbi_szekely_z2(picked, var, es, level)
    p_value = float((np.sum(simulated <= observed) + 1) / (simulations + 1))
    return ExpectedShortfallTest(observed, p_value, len(realised), float(len(realised) * (1 - level)), simulations)


def non_overlapping(positions: np.ndarray, horizon_days: int) -> np.ndarray:
    """Every `horizon_days`-th forecast, starting from the first: outcomes that do not overlap."""
    return np.asarray(positions)[::max(1, horizon_days)]
