"""The MES TimeSeriesPredictor: the model that forecasts is the one that scored best on the
held-out windows the leaderboard shows."""

from __future__ import annotations

import multiprocessing
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.timeseries import load_timeseries_config, train
from cbi_platform_tests.conftest import CONFIG_DIR


def random_walk_panel(items=("MES", "ZL", "CL", "HG"), bars=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for item in items:
        stamps = pd.date_range("2024-01-01", periods=bars, freq="h")
        frames.append(pd.DataFrame({"item_id": item, "timestamp": stamps,
                                    "target": 4.0 + np.cumsum(rng.normal(size=bars) * 0.01),
                                    "hour_utc": stamps.hour, "day_of_week_utc": stamps.dayofweek,
                                    "month_start": 0, "month_end": 0}))
    return pd.concat(frames, ignore_index=True)


def test_the_chosen_model_is_the_best_on_the_holdout_not_autogluons_validation_pick(tmp_path):
    """On a random walk AutoGluon picks its WeightedEnsemble (on its own validation window) while
    Naive, the right answer for a random walk, scores best on the held-out windows."""
    config = load_timeseries_config(CONFIG_DIR, "fast")
    result = train(random_walk_panel(), config, tmp_path / "ts")
    board = result.leaderboard
    assert result.best_model == board["model"].iloc[0] == "Naive"
    assert result.predictor.model_best != "Naive"  # what was published before
    assert board["holdout_MASE"].is_monotonic_increasing
    assert result.holdout_scores["MASE"] == board["holdout_MASE"].min()


def _train_in_a_step_process() -> None:
    train(random_walk_panel(), load_timeseries_config(CONFIG_DIR, "fast"), Path(tempfile.mkdtemp()) / "ts")


def test_a_step_process_that_trained_exits_when_its_work_is_done():
    """A process started by multiprocessing (as Dagster starts a step) waited at exit for joblib's
    idle workers, 300 s, holding its warehouse pool slot: the next step sat "blocked by limit for
    pool warehouse" with nothing running."""
    step = multiprocessing.get_context("spawn").Process(target=_train_in_a_step_process)
    step.start()
    step.join(timeout=90)  # training takes ~15 s; the idle workers would keep it alive for 300
    try:
        assert not step.is_alive() and step.exitcode == 0
    finally:
        step.kill()
