import numpy as np
import pytest

from cbi_platform.lib.risk.montecarlo import TailScales, analytic_var_cvar, quantile_function, scenarios, usd_loss, var_cvar

GRID = np.array([-0.08, -0.05, 0.0, 0.05, 0.08])
TAILS = TailScales(0.02, 0.02)


def test_quantile_function_is_monotone_and_hits_the_grid():
    u = np.linspace(1e-6, 1 - 1e-6, 100_001)
    q = quantile_function(u, GRID, TAILS)
    assert np.all(np.diff(q) >= 0)
    assert np.allclose(quantile_function(np.array([0.05, 0.1, 0.5, 0.9, 0.95]), GRID, TAILS), GRID)
    # exponential tail: Q(0.01) = P5 - scale * ln(5)
    assert quantile_function(np.array([0.01]), GRID, TAILS)[0] == pytest.approx(-0.08 - 0.02 * np.log(5))


def test_monte_carlo_matches_the_analytic_var_and_cvar():
    draws = scenarios(GRID[None, :], [TAILS], 1_000_000, seed=3)[:, 0]
    for level in (0.95, 0.99):
        mc_var, mc_cvar = var_cvar(draws, level)
        var, cvar = analytic_var_cvar(GRID, TAILS, level)
        assert mc_var == pytest.approx(var, rel=0.01) and mc_cvar == pytest.approx(cvar, rel=0.01)
    assert analytic_var_cvar(GRID, TAILS, 0.95)[0] == pytest.approx(0.08)


def test_horizons_share_uniforms():
    grids = np.stack([GRID, GRID * 2, GRID * 3])
    draws = scenarios(grids, [TAILS] * 3, 50_000, seed=1)
    order = np.argsort(draws[:, 0])
    # comonotone: the same scenario ranks identically at every horizon
    assert np.all(np.diff(draws[order, 1]) >= 0) and np.all(np.diff(draws[order, 2]) >= 0)


def test_usd_loss_per_zl_contract():
    # 60,000 lb at 50 c/lb = $30,000; a 10% log loss costs 30,000 * (1 - e^-0.1)
    assert usd_loss(0.1, 50.0, 60_000, 0.01) == pytest.approx(30_000 * (1 - np.exp(-0.1)))


def test_tail_scales_fit_mean_excess():
    rng = np.random.default_rng(0)
    realised = -0.1 - rng.exponential(0.03, 20_000)
    tails = TailScales.fit(realised, np.full(20_000, -0.1), np.full(20_000, 0.1), floor=0.01)
    assert tails.lower == pytest.approx(0.03, rel=0.03) and tails.upper == 0.01
