"""One model lifecycle: where a version is stored, published whole to an object store and fetched
back on another machine; when a version can be kept instead of retrained is its record's
(test_records.py)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import registry
from cbi_platform.lib.ml.models import Climatology
from cbi_platform_tests.conftest import SQL_DIR


def RETURNS(horizon: str) -> pd.DataFrame:  # noqa: N802 - a fixed frame per horizon
    return pd.DataFrame({f"target_{horizon}": np.linspace(-0.1, 0.1, 50)})


def register_climatology(conn, root, version: str, horizons: list[str]) -> list[dict]:
    rows = []
    for horizon in horizons:
        path = registry.model_dir(root, "models/zl_baselines", version, horizon)
        model = Climatology(f"target_{horizon}", 5).fit(RETURNS(horizon), RETURNS(horizon).iloc[:0])
        registry.save(model, registry.working_dir(path), {"version": version})
        registry.publish(path)
        rows.append({"model_asset": "models/zl_baselines", "model": "climatology", "version": version, "horizon": horizon,
                     "trained_at": dt.datetime(2026, 1, 1), "autogluon_version": "-", "profile": "fast",
                     "data_fingerprint": version, "train_rows": 50, "train_end": dt.date(2025, 12, 31),
                     "path": str(path), "data_mode": "sample", "metrics": {"oof_pinball": 0.01 * len(horizon)}})
    if conn is not None:
        registry.register(conn, rows)
    return rows


def test_a_version_lives_under_its_asset_name_version_and_horizon(tmp_path):
    assert registry.model_dir(tmp_path, "models/bucket_fx_specialist", "abc", "1m") == str(tmp_path / "bucket_fx_specialist" / "abc" / "1m")
    assert registry.model_dir(tmp_path, "models/mes_timeseries", "abc") == str(tmp_path / "mes_timeseries" / "abc")
    assert registry.model_dir("s3://bucket/models", "models/zl_main", "abc", "1w") == "s3://bucket/models/zl_main/abc/1w"


def test_a_version_in_an_object_store_is_published_whole_and_fetched_on_another_machine(tmp_path, s3_bucket, monkeypatch):
    from cbi_platform.lib.storage import Location

    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    store = f"{s3_bucket}/models"
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "trainer_cache"))
    register_climatology(conn, store, "v1", ["1w", "1m"])
    assert all(registry.stored(f"{store}/zl_baselines/v1/{h}", registry.MANIFEST) for h in ("1w", "1m"))
    entry = {e.horizon: e for e in registry.latest(conn, "climatology")}["1m"]
    assert entry.path == f"{store}/zl_baselines/v1/1m"

    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "forecaster_cache"))  # another machine: nothing cached
    loaded = registry.load(entry.path)
    trained = Climatology("target_1m", 5).fit(RETURNS("1m"), RETURNS("1m").iloc[:0])
    np.testing.assert_array_equal(loaded.predict(RETURNS("1m").head(3)), trained.predict(RETURNS("1m").head(3)))
    cached = list((tmp_path / "forecaster_cache" / "published").rglob(registry.MANIFEST))
    assert [p.parent.parent for p in cached] == [tmp_path / "forecaster_cache" / "published" / s3_bucket.removeprefix("s3://")
                                                 / "models/zl_baselines/v1/1m"]  # one copy, named by its marker

    # retrained again, and the upload dies half way: the half-replaced copy is not trusted
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "retrainer_cache"))
    retrained = Climatology("target_1m", 5).fit(RETURNS("1m") + 0.05, RETURNS("1m").iloc[:0])
    registry.save(retrained, registry.working_dir(entry.path), {"version": "v1"})

    def dies_half_way(self, local_folder, path):
        self.write_bytes(self.path(registry.MANIFEST), (local_folder / registry.MANIFEST).read_bytes())
        raise ConnectionError("connection reset")

    with monkeypatch.context() as patch:
        patch.setattr(Location, "upload_folder", dies_half_way)
        with pytest.raises(ConnectionError):
            registry.publish(entry.path)
    assert registry.stored(f"{store}/zl_baselines/v1/1w", registry.MANIFEST)
    assert not registry.stored(entry.path, registry.MANIFEST)  # retrain it
    with pytest.raises(registry.ModelVersionError, match="not published"):
        registry.fetched(entry.path)
    conn.close()


def test_a_file_url_store_is_the_same_folder_from_any_working_directory(tmp_path, monkeypatch):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    monkeypatch.chdir(tmp_path)
    register_climatology(conn, f"file://{tmp_path / 'store'}", "v1", ["1w"])
    assert (tmp_path / "store" / "zl_baselines" / "v1" / "1w" / registry.MANIFEST).exists()
    monkeypatch.chdir(tmp_path / "store")
    assert registry.stored(f"file://{tmp_path / 'store'}/zl_baselines/v1/1w", registry.MANIFEST)
    conn.close()


def test_a_cached_copy_is_replaced_when_the_store_publishes_a_retrained_version(tmp_path, s3_bucket, monkeypatch):
    store = f"{s3_bucket}/models"
    where = registry.model_dir(store, "models/zl_baselines", "v1", "1w")
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    first = Climatology("target_1w", 5).fit(RETURNS("1w"), RETURNS("1w").iloc[:0])
    registry.save(first, registry.working_dir(where), {"version": "v1"})
    registry.publish(where)
    assert registry.load(where).predict(RETURNS("1w").head(1)).tolist() == first.predict(RETURNS("1w").head(1)).tolist()
    # force-retrained elsewhere on other returns: the cached copy is stale, the published one wins
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "elsewhere"))
    shifted = RETURNS("1w") + 0.05
    second = Climatology("target_1w", 5).fit(shifted, shifted.iloc[:0])
    registry.save(second, registry.working_dir(where), {"version": "v1"})
    registry.publish(where)
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    assert registry.load(where).predict(RETURNS("1w").head(1)).tolist() == second.predict(RETURNS("1w").head(1)).tolist()
