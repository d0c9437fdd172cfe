"""A profile's model families either train or the run says which did not: AutoGluon skips a
family that runs out of time, lacks its package or cannot predict quantiles, and tells only its
own (silenced) log."""

import logging

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.models import AutoGluonQuantile, families_missing


def test_counts_each_configuration_of_a_family_by_its_leaderboard_name():
    trained = ["LightGBM", "LightGBM_2", "CatBoost", "NeuralNetTorch", "WeightedEnsemble_L2"]
    hyperparameters = {"GBM": [{}, {}, {"extra_trees": True}], "CAT": {}, "XT": {}, "NN_TORCH": {}}
    assert families_missing(trained, hyperparameters) == {"GBM": 1, "XT": 1}
    assert families_missing(trained + ["LightGBM_3", "ExtraTrees"], hyperparameters) == {}


def test_a_family_autogluon_skips_is_reported_and_logged(tmp_path, caplog):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = 0.1 * frame["a"] + rng.normal(size=400)
    # KNN has no quantile mode: AutoGluon drops it without an error
    model = AutoGluonQuantile("y", ["a", "b"], {"GBM": {"num_boost_round": 20}, "KNN": {}}, tmp_path / "model")
    with caplog.at_level(logging.WARNING, logger="cbi_platform.ml"):
        model.fit(frame.iloc[:300], frame.iloc[300:])
    assert model.families_missing == {"KNN": 1}
    assert [r.getMessage() for r in caplog.records if r.name == "cbi_platform.ml"] == [
        "y (model): AutoGluon trained fewer models than the profile lists, missing {'KNN': 1}: out of time, "
        "a package not installed, or no quantile support"]
