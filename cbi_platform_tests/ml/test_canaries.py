"""Leakage canaries on the sample world, both able to fail.

On the null world (signal=0: no planted signal, no volatility regimes) nothing about ZL's future
is predictable, so the ensemble's out-of-sample skill against climatology must stay within the
noise band: the one-sided 95% band of a moving-block bootstrap of daily loss differences, with
blocks as long as the horizon and at least a month (overlapping targets and slow features make
naive bands far too narrow). On the planted-signal world the same pipeline must find the
signal: beyond the band at one horizon at least, and worse than climatology at none (where a
fold's evidence is too thin to leave climatology, the ensemble is climatology: skill 0). A third
test plants a leak (a feature that knows the future) and checks the canary catches it.

The worlds end on a fixed day: the canaries' outcome must not change with the calendar. It is the
day (2026-12-02) the null world's ensemble was found 0.85% worse than climatology at 1w (noise band
0.74%), before the ensemble had to earn its departures from climatology (lib/ml/ensemble.py).

Evaluation uses six yearly walk-forward folds (1,260 honest outcomes after the first fold): with
the three of the `fast` profile the bands are too wide to tell a signal of the planted size from
noise.
"""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from cbi_platform.lib import features, warehouse
from cbi_platform.lib.ingest import ingest
from cbi_platform.lib.ml.ensemble_model import load_skill_gates
from cbi_platform.lib.ml.evaluation import evaluate, strategy_summary
from cbi_platform.lib.ml.train import load_training_config
from cbi_platform.lib.sources import cftc, databento, eia, epa_rin, fred, usda_esr, usda_wasde
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR, sample_context

pytestmark = pytest.mark.slow
HISTORY = dt.date(2015, 1, 5)
WORLD_END = dt.date(2026, 12, 2)
CANARY_FOLDS = 6


def build_matrix(base, signal: float):
    ctx = sample_context(base, signal=signal, seed=1, today=WORLD_END)
    conn = warehouse.connect(base / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    window = Window(HISTORY, WORLD_END + dt.timedelta(days=1), include_history=True)
    ctx.history_start = HISTORY
    sources = [fred.spec(), databento.spec("ohlcv-1d"), databento.spec("statistics"), cftc.spec(), epa_rin.spec(),
               usda_esr.spec(), usda_wasde.spec(), eia.spec()]
    for spec in sources:
        ingest(spec, window, ctx, conn)
    for name in features.FEATURE_ORDER:
        features.run_sql(conn, SQL_DIR, name, CONFIG_DIR)
    matrix = conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()
    conn.close()
    return matrix


@pytest.fixture(scope="module")
def null_matrix(tmp_path_factory):
    return build_matrix(tmp_path_factory.mktemp("null_world"), signal=0.0)


@pytest.fixture(scope="module")
def signal_matrix(tmp_path_factory):
    return build_matrix(tmp_path_factory.mktemp("signal_world"), signal=1.0)


@pytest.fixture(scope="module")
def config():
    return dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), folds=CANARY_FOLDS)


def test_no_skill_in_the_null_world(null_matrix, config):
    results = evaluate(null_matrix, config)
    for horizon, result in results.items():
        # within the noise band on both sides: no evidence of skill (leakage) and no harm
        assert not result.ensemble.better_beyond_noise, (horizon, result.ensemble)
        assert not result.ensemble.worse_beyond_noise, (horizon, result.ensemble)
    # and trading on these forecasts earns nothing beyond noise (90% block-bootstrap Sharpe
    # interval) at every horizon with enough independent holding periods to judge: 1w and 1m here
    judged = ensemble_strategy(results, null_matrix).query("judged")
    assert {"1w", "1m"} <= set(judged["horizon"]), judged
    assert all(low < 0 for low, _ in judged["sharpe_interval"]), judged[["horizon", "sharpe", "sharpe_interval"]]


def ensemble_strategy(results, matrix):
    summary = strategy_summary(results, matrix, CONFIG_DIR)
    return summary[summary["rule"] == "ensemble"]


def test_the_canary_catches_a_planted_leak(null_matrix, config):
    leaky = null_matrix.copy()
    rng = np.random.default_rng(0)
    # a feature that has seen the next month, blurred: exactly the kind of bug the canary exists for
    leaky["peeks_at_the_future"] = leaky["target_1m"] + rng.standard_normal(len(leaky)) * leaky["target_1m"].std()
    results = evaluate(leaky, config, horizons=["1m"])
    # caught twice over: beyond the noise band, and above the skill at which the platform's own
    # leakage alarm fires on real data
    assert results["1m"].ensemble.better_beyond_noise and results["1m"].ensemble.skill > load_skill_gates(CONFIG_DIR).warn["1m"]
    # the strategy's null-world test fails on it too: the leak earns money beyond noise
    leak = ensemble_strategy(results, leaky).set_index("horizon").loc["1m"]
    assert leak["judged"] and leak["sharpe_interval"][0] > 0, leak


def test_the_planted_signal_is_found(signal_matrix, config):
    results = evaluate(signal_matrix, config)
    skills = {h: round(r.ensemble.skill, 4) for h, r in results.items()}
    assert not any(r.ensemble.worse_beyond_noise for r in results.values()), skills
    assert any(r.ensemble.better_beyond_noise for r in results.values()), skills
    # the shrunk linear member is what finds an additive signal this weak: it must carry weight
    assert all(r.weights["zl_linear"] >= 0.25 for h, r in results.items() if h != "6m"), {h: r.weights for h, r in results.items()}
