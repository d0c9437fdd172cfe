"""The MES model's lifecycle: version, registration, the gate against seasonal naive, and the
published forecast, on a random-walk panel (where Naive is the right model)."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import mes, records
from cbi_platform.lib.ml.timeseries import load_timeseries_config
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR
from cbi_platform_tests.lib.ml.test_timeseries import random_walk_panel


@pytest.fixture(scope="module")
def config():
    return load_timeseries_config(CONFIG_DIR, "fast")


def test_the_version_changes_with_any_bar_or_setting_and_nothing_else(config):
    panel = random_walk_panel()
    version = mes.model_version(panel, config)
    assert mes.model_version(random_walk_panel(), config) == version
    moved = panel.copy()
    moved.loc[17, "target"] += 1e-6
    assert mes.model_version(moved, config).version != version.version
    assert mes.model_version(panel, dataclasses.replace(config, history_bars=config.history_bars + 1)).version != version.version
    assert mes.model_version(panel, dataclasses.replace(config, history_bars=config.history_bars + 1)).fingerprint == version.fingerprint


@pytest.mark.parametrize(("relative", "passed", "words"), [
    (0.93, True, "relative MASE 0.930 < 1: beats seasonal naive"),
    (1.0, False, "relative MASE 1.000 >= 1: no better than seasonal naive"),
])
def test_the_gate_says_what_it_found(config, relative, passed, words):
    outcome = mes.gate({"mes": {"MASE": 1.2, "relative_MASE": relative}}, config)
    assert (outcome.name, outcome.passed) == (mes.GATE, passed)
    assert words in outcome.description
    assert outcome.metadata["mes_relative_mase"] == relative and outcome.metadata["mes_mase"] == 1.2


def test_no_mes_on_the_holdout_fails_the_gate(config):
    outcome = mes.gate({"mes": None}, config)
    assert not outcome.passed and "MES had too few bars" in outcome.description


def test_a_registered_model_is_kept_forecasts_with_its_best_model_and_publishes_every_root(tmp_path, config):
    panel = random_walk_panel()
    panel["close"] = np.exp(panel["target"])  # no roll adjustment: the target is the log close
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    conn.execute("CREATE TABLE features.mes_hourly AS SELECT * FROM panel")
    version = mes.model_version(panel, config)
    store = str(tmp_path / "store")
    path = mes.model_dir(store, version)
    assert path == str(tmp_path / "store" / "mes_timeseries" / version.version)
    assert records.stored(store, mes.ASSET, version.version) is None

    trained = mes.train_and_record(panel, config, version, store, "sample")
    result, row = trained.result, trained.registry_row
    assert trained.record_url == records.record_url(store, mes.ASSET, version.version) and row["path"] == path
    records.load(conn, records.read(trained.record_url))
    kept = mes.record_metrics(records.stored(store, mes.ASSET, version.version))
    assert kept["best_model"] == result.best_model == "Naive"
    assert mes.gate(kept, config).passed == mes.gate(row["metrics"], config).passed
    assert kept["mes"]["relative_MASE"] == pytest.approx(row["metrics"]["mes"]["relative_MASE"])

    published = mes.publish(conn, CONFIG_DIR, "sample")
    stored = conn.execute("SELECT * FROM forecasts.mes_predictions ORDER BY item_id, step").df()
    assert len(stored) == 4 * config.prediction_length and set(stored["item_id"]) == {"MES", "ZL", "CL", "HG"}
    assert set(stored["model"]) == {"Naive"} and set(stored["model_version"]) == {version.version}
    # Naive's median is the last close, and its band widens with the step
    assert np.allclose(stored["p50_price"], stored["last_close"], rtol=1e-9)
    mes_rows = stored[stored["item_id"] == "MES"]
    assert (mes_rows["p90_price"] - mes_rows["p10_price"]).is_monotonic_increasing
    assert all(o.passed for o in published.outcomes())
    assert len(published.focus_table()) == min(24, config.prediction_length)

    shutil.rmtree(path)  # a record without its model directory is not a model to keep
    assert records.stored(store, mes.ASSET, version.version) is None
    conn.close()


def test_a_forecast_missing_mes_steps_fails_its_check():
    frame = pd.DataFrame({"item_id": ["MES", "ZL"], "p10_price": [1.0, 1.0], "p50_price": [2.0, 2.0],
                          "p90_price": [3.0, 3.0]})
    present = {o.name: o for o in mes.Published(frame, "Naive", prediction_length=24).outcomes()}["mes_forecast_present"]
    assert not present.passed and present.description == "MES forecast for 1 of 24 steps"
