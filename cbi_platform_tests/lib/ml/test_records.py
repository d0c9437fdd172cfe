"""A model version's record: what its training step leaves for the warehouse, as files in the
model store. It decides whether a version is kept (complete, every model folder still stored),
and models/training_tables loads it into training.* once."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ml import records, registry
from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform_tests.lib.ml.test_registry import register_climatology

ASSET = "models/zl_baselines"


def oof(version: str, days: int = 30, shift: float = 0.0) -> pd.DataFrame:
    dates = pd.bdate_range("2024-01-02", periods=days)
    quantiles = np.tile(np.array([-0.04, -0.03, 0.0, 0.03, 0.04]) + shift, (days, 1))
    frame = pd.DataFrame(quantiles, columns=list(QCOLS))
    return frame.assign(model="climatology", horizon="1w", as_of_date=dates, fold=np.arange(days) // 10,
                        realised=np.linspace(-0.02, 0.02, days), model_version=version)


def climatology_record(root: str, version: str, horizons=("1w", "1m"), shift: float = 0.0) -> records.Record:
    rows = register_climatology(None, root, version, list(horizons))
    return records.Record(ASSET, "climatology", version, registry.MANIFEST, rows, oof(version, shift=shift))


def test_a_version_is_kept_only_with_its_whole_record_and_every_model_folder(tmp_path):
    store = str(tmp_path / "store")
    record = climatology_record(store, "v1")
    assert records.stored(store, ASSET, "v1") is None  # trained and published, never recorded
    url = records.write(store, record)
    assert url == f"{store}/records/zl_baselines/v1"
    kept = records.stored(store, ASSET, "v1")
    assert [r["horizon"] for r in kept.registry_rows] == ["1w", "1m"]
    assert kept.registry_rows[0]["metrics"] == {"oof_pinball": 0.02}
    pd.testing.assert_frame_equal(kept.oof, records.oof_frame(record.oof))
    assert records.stored(store, ASSET, "v2") is None
    assert records.stored(store, "models/zl_main", "v1") is None  # another asset's version

    # a record cut short (its marker never written) is not one
    (tmp_path / "store" / "records" / "zl_baselines" / "v1" / records.MARKER).unlink()
    assert records.stored(store, ASSET, "v1") is None
    with pytest.raises(records.RecordError, match="no complete training record"):
        records.read(url)
    # the model folder of one horizon wiped: retrain
    records.write(store, record)
    (tmp_path / "store" / "zl_baselines" / "v1" / "1m" / registry.MANIFEST).unlink()
    assert records.stored(store, ASSET, "v1") is None


def test_a_damaged_record_is_refused_naming_the_file_and_the_version_retrains(tmp_path):
    store = str(tmp_path / "store")
    url = records.write(store, climatology_record(store, "v1"))
    (oof_file,) = (tmp_path / "store" / "records" / "zl_baselines" / "v1").glob("oof.*.parquet")
    oof_file.write_bytes(oof_file.read_bytes()[:50])
    with pytest.raises(records.RecordError, match=rf"training record {url}: oof\.\w+\.parquet unreadable"):
        records.read(url)
    assert records.stored(store, ASSET, "v1") is None
    (tmp_path / "store" / "records" / "zl_baselines" / "v1" / records.MARKER).write_text("{not json")
    with pytest.raises(records.RecordError, match="record.json unreadable"):
        records.read(url)


def test_a_version_trained_again_is_read_whole_before_or_after_never_mixed(tmp_path):
    store = str(tmp_path / "store")
    url = records.write(store, climatology_record(store, "v1"))
    marker = tmp_path / "store" / "records" / "zl_baselines" / "v1" / records.MARKER
    before = marker.read_bytes()
    records.write(store, climatology_record(store, "v1", shift=0.01))  # force_retrain of the same version
    assert records.read(url).oof["q50"].max() == pytest.approx(0.01)
    marker.write_bytes(before)  # a reader that took the marker before the new one landed
    assert records.read(url).oof["q50"].max() == pytest.approx(0.0)


def test_loading_a_record_fills_training_tables_once_and_a_new_version_replaces_the_models_rows(tmp_path, conn):
    store = str(tmp_path / "store")
    first = records.read(records.write(store, climatology_record(store, "v1")))
    assert not records.loaded(conn, first)
    records.load(conn, first)
    assert records.loaded(conn, first)
    registered = conn.execute("SELECT horizon, version, train_end, metrics FROM training.model_registry ORDER BY horizon").fetchall()
    assert registered == [("1m", "v1", dt.date(2025, 12, 31), '{"oof_pinball": 0.02}'),
                          ("1w", "v1", dt.date(2025, 12, 31), '{"oof_pinball": 0.02}')]
    stored = conn.execute("SELECT * FROM training.oof_predictions ORDER BY as_of_date").df()
    pd.testing.assert_frame_equal(stored[records.OOF_COLUMNS], first.oof[records.OOF_COLUMNS])

    second = records.read(records.write(store, climatology_record(store, "v2", shift=0.01)))
    assert not records.loaded(conn, second)
    records.load(conn, second)
    versions = conn.execute("SELECT DISTINCT model_version FROM training.oof_predictions").fetchall()
    assert versions == [("v2",)] and records.loaded(conn, second) and not records.loaded(conn, first)
    assert conn.execute("SELECT max(q50) FROM training.oof_predictions").fetchone()[0] == pytest.approx(0.01)
    # v1 stays registered: a version is history, what is current is the latest trained
    assert conn.execute("SELECT count(DISTINCT version) FROM training.model_registry").fetchone()[0] == 2


def test_a_record_round_trips_through_an_object_store(tmp_path, s3_bucket, monkeypatch):
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    store = f"{s3_bucket}/models"
    weights = pd.DataFrame({"version": ["e1"], "horizon": ["1w"], "member": ["climatology"], "weight": [1.0],
                            "method": ["greedy"], "honest_pinball": [0.01]})
    leaderboard = pd.DataFrame({"model": ["LightGBM", "WeightedEnsemble_L2"], "score_val": [-0.011, -0.010],
                                "can_infer": [True, True]})
    record = climatology_record(store, "v1")
    record.tables = {"ensemble_weights": weights}
    record.reports = {"leaderboard_1w": leaderboard}
    url = records.write(store, record)
    assert url == f"{store}/records/zl_baselines/v1"
    back = records.stored(store, ASSET, "v1")
    pd.testing.assert_frame_equal(back.tables["ensemble_weights"], weights)
    pd.testing.assert_frame_equal(back.reports["leaderboard_1w"], leaderboard)
    pd.testing.assert_frame_equal(back.oof, records.oof_frame(record.oof))
    assert [r["path"] for r in back.registry_rows] == [f"{store}/zl_baselines/v1/1w", f"{store}/zl_baselines/v1/1m"]


def test_a_record_naming_a_table_it_may_not_write_is_refused(tmp_path):
    record = climatology_record(str(tmp_path / "store"), "v1")
    record.tables = {"model_registry": pd.DataFrame()}
    with pytest.raises(records.RecordError, match="no training table"):
        records.write(str(tmp_path / "store"), record)
    record.tables = {}
    record.reports = {"oof": pd.DataFrame()}  # would overwrite the out-of-fold predictions
    with pytest.raises(records.RecordError, match="are taken"):
        records.write(str(tmp_path / "store"), record)
    assert not (tmp_path / "store" / "records").exists()
