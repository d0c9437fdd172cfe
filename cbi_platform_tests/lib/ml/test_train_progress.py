"""The walk-forward says where it is: one progress line per fit, folds then the final fit."""

import dataclasses
import logging

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.models import VOL_COLUMN, Climatology
from cbi_platform.lib.ml.train import load_training_config, train_horizon
from cbi_platform_tests.conftest import CONFIG_DIR


def test_each_walk_forward_fit_logs_a_progress_line(tmp_path, caplog):
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=1400)
    matrix = pd.DataFrame({"trade_date": dates, VOL_COLUMN: 0.2, "target_1w": rng.normal(0, 0.02, len(dates)),
                           "target_end_1w": dates + pd.offsets.BDay(5)})
    matrix.loc[matrix.index[-5:], ["target_1w", "target_end_1w"]] = None  # not resolved yet
    config = dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), folds=3, test_days=200)
    with caplog.at_level(logging.INFO, logger="cbi_platform.progress"):
        result = train_horizon(matrix, "1w", config, lambda label, path: Climatology(label, 5), tmp_path / "final",
                               name="zl_climatology")
    lines = [r.getMessage() for r in caplog.records if r.name == "cbi_platform.progress"]
    assert len(result.folds) == 4 and len(lines) == 4
    assert lines[0].startswith("zl_climatology 1w: 1 of 4 fits (walk-forward fold 1 of 3), ")
    assert lines[-1].startswith("zl_climatology 1w: 4 of 4 fits (final fit), ") and lines[-1].endswith("~0 s left")
