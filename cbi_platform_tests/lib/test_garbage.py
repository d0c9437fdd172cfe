"""Training's garbage collections walk only what training creates: the objects a step process
already holds (definitions, the run's events) are frozen while a model trains."""

import dataclasses
import gc
import threading
import weakref

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.garbage import existing_objects_frozen
from cbi_platform.lib.ml.member_model import fit_model
from cbi_platform.lib.ml.models import VOL_COLUMN, Climatology
from cbi_platform.lib.ml.train import load_training_config
from cbi_platform_tests.conftest import CONFIG_DIR


class Cycle:
    def __init__(self):
        self.me = self


def test_objects_alive_before_are_frozen_and_new_garbage_is_still_collected():
    held = Cycle()  # alive before: frozen, so collections inside skip it

    @existing_objects_frozen
    def work():
        held_frozen = not any(tracked is held for tracked in gc.get_objects())  # the permanent generation is not listed
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        gc.collect()
        return held_frozen, gone() is None

    assert gc.get_freeze_count() == 0
    assert work() == (True, True)
    assert gc.get_freeze_count() == 0 and any(tracked is held for tracked in gc.get_objects())


def test_a_nested_use_keeps_the_outer_freeze_and_a_failure_unfreezes():
    seen = []

    @existing_objects_frozen
    def inner():
        return gc.get_freeze_count()

    @existing_objects_frozen
    def outer():
        inner()
        seen.append(gc.get_freeze_count())
        raise RuntimeError("fit failed")

    with pytest.raises(RuntimeError, match="fit failed"):
        outer()
    assert seen[0] > 0 and gc.get_freeze_count() == 0


def test_a_training_in_another_thread_keeps_the_objects_frozen_until_it_ends():
    """A Dask worker runs steps in threads: the first to end must not unfreeze under the other."""
    entered, release = threading.Event(), threading.Event()

    @existing_objects_frozen
    def long_training():
        entered.set()
        release.wait(10)

    @existing_objects_frozen
    def short_training():
        return gc.get_freeze_count()

    other = threading.Thread(target=long_training)
    other.start()
    try:
        assert entered.wait(10)
        short_training()
        still_frozen = gc.get_freeze_count()
    finally:
        release.set()
        other.join(10)
    assert not other.is_alive()
    assert still_frozen > 0 and gc.get_freeze_count() == 0


def test_a_members_fits_run_with_the_process_objects_frozen(tmp_path, monkeypatch):
    freeze_counts, fit = [], Climatology.fit

    def recording_fit(self, train, tune):
        freeze_counts.append(gc.get_freeze_count())
        return fit(self, train, tune)

    monkeypatch.setattr(Climatology, "fit", recording_fit)
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=1400)
    matrix = pd.DataFrame({"trade_date": dates, VOL_COLUMN: 0.2, "target_1w": rng.normal(0, 0.02, len(dates)),
                           "target_end_1w": dates + pd.offsets.BDay(5)})
    config = dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), folds=3, test_days=200, horizons={"1w": 5})
    fit_model(matrix, model_name="climatology", model_asset="zl_baselines", features=[],
              make_model=lambda label, days, path: Climatology(label, days), config=config,
              store_root=tmp_path, data_mode="sample", explain=False)
    assert len(freeze_counts) == 4 and min(freeze_counts) > 0  # three folds and the final fit
    assert gc.get_freeze_count() == 0


def test_the_hourly_model_trains_with_the_process_objects_frozen(tmp_path, monkeypatch):
    from autogluon.timeseries import TimeSeriesPredictor

    from cbi_platform.lib.ml.timeseries import load_timeseries_config, train
    from cbi_platform_tests.lib.ml.test_timeseries import random_walk_panel

    class FitReached(Exception):
        pass

    freeze_counts = []

    def recording_fit(self, *args, **kwargs):
        freeze_counts.append(gc.get_freeze_count())
        raise FitReached

    monkeypatch.setattr(TimeSeriesPredictor, "fit", recording_fit)
    with pytest.raises(FitReached):
        train(random_walk_panel(), load_timeseries_config(CONFIG_DIR, "fast"), tmp_path / "ts")
    assert freeze_counts[0] > 0 and gc.get_freeze_count() == 0
