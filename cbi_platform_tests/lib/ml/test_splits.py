import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml import splits


def calendar(n=2000, horizon=21):
    dates = pd.Series(pd.bdate_range("2015-01-01", periods=n + horizon))
    return dates.iloc[:n].reset_index(drop=True), dates.shift(-horizon).iloc[:n].reset_index(drop=True)


@pytest.mark.parametrize("horizon", [5, 21, 126])
def test_no_training_target_overlaps_its_test_block(horizon):
    dates, ends = calendar(horizon=horizon)
    embargo = 5
    folds = splits.walk_forward(dates, ends, n_folds=3, test_size=252, embargo=embargo, tune_fraction=0.15, min_train=300)
    assert len(folds) == 3
    for fold in folds:
        test_start = dates.iloc[fold.test[0]]
        used = np.concatenate([fold.train, fold.tune])
        # every target used for training/tuning ended before the test block (with the embargo)
        assert (ends.iloc[used] < test_start).all()
        assert ends.iloc[used].max() <= dates.iloc[fold.test[0] - embargo - 1]
        # the fit rows' targets end before the tuning block starts: early stopping sees no overlap
        assert (ends.iloc[fold.train] < dates.iloc[fold.tune[0]]).all()
        assert fold.train.max() < fold.tune.min() < fold.test.min()
    # expanding window, consecutive non-overlapping test blocks, oldest first
    assert [f.test[0] for f in folds] == sorted(f.test[0] for f in folds)
    assert all(a.test[-1] + 1 == b.test[0] for a, b in zip(folds, folds[1:]))
    assert len(folds[0].train) < len(folds[-1].train)


def test_folds_too_small_to_train_are_skipped():
    dates, ends = calendar(n=700)
    folds = splits.walk_forward(dates, ends, n_folds=3, test_size=252, embargo=5, tune_fraction=0.15, min_train=300)
    assert len(folds) == 1 and folds[0].index == 0


def test_final_fit_uses_everything_known():
    dates, ends = calendar(n=1000, horizon=63)
    final = splits.final_fit(dates, ends, embargo=5, tune_fraction=0.15)
    assert final.tune[-1] == 999 and len(final.test) == 0
    assert (ends.iloc[final.train] < dates.iloc[final.tune[0]]).all()


def test_real_data_is_judged_on_ten_test_years_whatever_the_profile():
    """On real data one or three test years cannot calibrate the intervals nor judge them: the
    coverage gate then blocks on a single regime (2009 calibrated on 2008's crash alone)."""
    from cbi_platform.lib.ml.train import load_training_config
    from cbi_platform.lib.settings import PROJECT_ROOT

    config_dir = PROJECT_ROOT / "config"
    assert load_training_config(config_dir, "fast").folds == 3
    assert load_training_config(config_dir, "fast", "sample").folds == 3
    assert load_training_config(config_dir, "fast", "files").folds == 10
    assert load_training_config(config_dir, "medium", "live").folds == 10
    assert load_training_config(config_dir, "fast", "replay").test_days == 252
