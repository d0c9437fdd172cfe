"""One model lifecycle: where a version is stored, and when a registered version can be kept
instead of retrained (every horizon registered, its files still there)."""

import datetime as dt

import numpy as np
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import registry
from cbi_platform.lib.ml.member_model import already_trained
from cbi_platform.lib.ml.models import Climatology
from cbi_platform_tests.conftest import SQL_DIR


def register_climatology(conn, root, version: str, horizons: list[str]) -> None:
    rows = []
    for horizon in horizons:
        path = registry.model_dir(root, "models/zl_baselines", version, horizon)
        returns = pd.DataFrame({f"target_{horizon}": np.linspace(-0.1, 0.1, 50)})
        model = Climatology(f"target_{horizon}", 5).fit(returns, returns.iloc[:0])
        registry.save(model, path, {"version": version})
        rows.append({"model_asset": "models/zl_baselines", "model": "climatology", "version": version, "horizon": horizon,
                     "trained_at": dt.datetime(2026, 1, 1), "autogluon_version": "-", "profile": "fast",
                     "data_fingerprint": version, "train_rows": 50, "train_end": dt.date(2025, 12, 31),
                     "path": str(path), "data_mode": "sample", "metrics": {"oof_pinball": 0.01 * len(horizon)}})
    registry.register(conn, rows)


def test_a_version_lives_under_its_asset_name_version_and_horizon(tmp_path):
    assert registry.model_dir(tmp_path, "models/bucket_fx_specialist", "abc", "1m") == tmp_path / "bucket_fx_specialist" / "abc" / "1m"
    assert registry.model_dir(tmp_path, "models/mes_timeseries", "abc") == tmp_path / "mes_timeseries" / "abc"


def test_a_version_is_kept_only_when_every_horizon_is_registered_with_its_files(tmp_path):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    register_climatology(conn, tmp_path / "store", "v1", ["1w", "1m"])
    assert registry.registered(conn, "models/zl_baselines", "v1", ["1w", "1m"]) == {"1w": {"oof_pinball": 0.02},
                                                                                    "1m": {"oof_pinball": 0.02}}
    assert registry.registered(conn, "models/zl_baselines", "v1", ["1w", "1m", "3m"]) is None  # 3m never trained
    assert registry.registered(conn, "models/zl_baselines", "v2", ["1w"]) is None
    assert registry.registered(conn, "models/zl_main", "v1", ["1w"]) is None  # another asset's version
    # the manifest of one horizon is gone (a wiped model store): that version must be retrained
    (registry.model_dir(tmp_path / "store", "models/zl_baselines", "v1", "1m") / registry.MANIFEST).unlink()
    assert registry.registered(conn, "models/zl_baselines", "v1", ["1w"]) is not None
    assert registry.registered(conn, "models/zl_baselines", "v1", ["1w", "1m"]) is None
    conn.close()


def test_a_member_is_kept_only_with_its_out_of_fold_record(tmp_path):
    """The ensemble is fitted on the members' out-of-fold forecasts: without them the member retrains."""
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    register_climatology(conn, tmp_path / "store", "v1", ["1w"])
    assert not already_trained(conn, "models/zl_baselines", "v1", ["1w"])
    warehouse.replace_rows(conn, "training.oof_predictions", pd.DataFrame({
        "model": ["climatology"], "horizon": ["1w"], "as_of_date": [dt.date(2025, 1, 2)], "fold": [0],
        "q05": [-0.1], "q10": [-0.05], "q50": [0.0], "q90": [0.05], "q95": [0.1], "realised": [0.01],
        "model_version": ["v1"]}))
    assert already_trained(conn, "models/zl_baselines", "v1", ["1w"])
    conn.close()
