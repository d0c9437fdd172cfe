"""A profile's model families either train or the run says which did not: AutoGluon skips a
family that runs out of time, lacks its package or cannot predict quantiles, and tells only its
own (silenced) log. The walk-forward warns once for all its fits and the registry row keeps it."""

import dataclasses
import logging

import numpy as np
import pandas as pd

from cbi_platform.lib.ml import registry
from cbi_platform.lib.ml.member_model import fit_model
from cbi_platform.lib.ml.models import VOL_COLUMN, AutoGluonQuantile, Climatology, families_missing
from cbi_platform.lib.ml.train import load_training_config
from cbi_platform_tests.conftest import CONFIG_DIR


def test_counts_each_configuration_of_a_family_by_its_leaderboard_name():
    trained = ["LightGBM", "LightGBM_2", "LightGBMXT", "CatBoost", "NeuralNetTorch", "WeightedEnsemble_L2"]
    hyperparameters = {"GBM": [{}, {}, {"extra_trees": True}], "CAT": {}, "XT": {}, "NN_TORCH": {}}
    # LightGBMXT (a name_suffix config) is no GBM configuration of the profile's list
    assert families_missing(trained, hyperparameters) == {"GBM": 1, "XT": 1}
    assert families_missing(trained + ["LightGBM_3", "ExtraTrees"], hyperparameters) == {}


def test_a_family_autogluon_skips_is_reported(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = 0.1 * frame["a"] + rng.normal(size=400)
    # KNN has no quantile mode: AutoGluon drops it without an error
    model = AutoGluonQuantile("y", ["a", "b"], {"GBM": {"num_boost_round": 20}, "KNN": {}}, tmp_path / "model")
    model.fit(frame.iloc[:300], frame.iloc[300:])
    assert model.families_missing == {"KNN": 1}


class ShortOfCatBoost(Climatology):
    """A model whose every other fit trains one CatBoost configuration fewer than listed."""

    fits = 0

    def fit(self, train, tune):
        type(self).fits += 1
        self.families_missing = {"CAT": 1} if self.fits % 2 else {}
        return super().fit(train, tune)


def _matrix() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=1400)
    return pd.DataFrame({"trade_date": dates, VOL_COLUMN: 0.2, "target_1w": rng.normal(0, 0.02, len(dates)),
                         "target_end_1w": dates + pd.offsets.BDay(5)})


def test_the_walk_forward_warns_once_and_the_registry_row_keeps_the_missing_families(tmp_path, caplog, monkeypatch):
    monkeypatch.setitem(registry.STATISTICAL_MODELS, "short_of_catboost", ShortOfCatBoost)
    ShortOfCatBoost.fits = 0
    config = dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), folds=3, test_days=200, horizons={"1w": 5})
    with caplog.at_level(logging.WARNING, logger="cbi_platform.ml"):
        run = fit_model(_matrix(), model_name="zl_short", model_asset="models/zl_short", features=[],
                        make_model=lambda label, days, path: ShortOfCatBoost(label, days), config=config,
                        store_root=tmp_path, data_mode="sample")
    warnings = [r.getMessage() for r in caplog.records if r.name == "cbi_platform.ml"]
    assert warnings == ["zl_short 1w: AutoGluon trained fewer models than the profile lists in 2 of 4 fits, missing "
                        "up to {'CAT': 1} (out of time, a package not installed, or no quantile mode)"]
    assert run.results["1w"].families_missing == {"CAT": 1}
    assert run.registry_rows[0]["metrics"]["families_missing"] == {"CAT": 1}


def test_a_walk_forward_that_trains_every_family_warns_nothing(tmp_path, caplog):
    config = dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), folds=3, test_days=200, horizons={"1w": 5})
    with caplog.at_level(logging.WARNING, logger="cbi_platform.ml"):
        run = fit_model(_matrix(), model_name="zl_climatology", model_asset="models/zl_climatology", features=[],
                        make_model=lambda label, days, path: Climatology(label, days), config=config,
                        store_root=tmp_path, data_mode="sample")
    assert not [r for r in caplog.records if r.name == "cbi_platform.ml"]
    assert run.registry_rows[0]["metrics"]["families_missing"] == {}
