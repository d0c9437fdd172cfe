"""The ensemble model's lifecycle: its version names the members' out-of-fold record and the
training config, a fitted version is stored and registered, then kept; on members of pure noise
it is climatology, does no harm and passes its gates."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import ensemble_model, records, registry
from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES
from cbi_platform.lib.ml.train import load_training_config
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR

DAYS, FOLD_DAYS = 900, 300


def members_oof(seed: int = 5) -> pd.DataFrame:
    """Weekly outcomes over three folds: climatology and two members of pure noise."""
    rng = np.random.default_rng(seed)
    realised = rng.standard_normal(DAYS) * 0.03
    dates = pd.bdate_range("2021-01-04", periods=DAYS).date
    climatology = np.tile(np.quantile(realised, QUANTILES), (DAYS, 1))
    frames = []
    for name, quantiles in (("climatology", climatology), ("zl_main", climatology + rng.standard_normal((DAYS, 1)) * 0.01),
                            ("zl_linear", climatology * 1.2)):
        frame = pd.DataFrame(quantiles, columns=list(QCOLS))
        frames.append(frame.assign(model=name, horizon="1w", as_of_date=dates, fold=np.arange(DAYS) // FOLD_DAYS,
                                   realised=realised, model_version=f"{name}-v1"))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def training():
    return dataclasses.replace(load_training_config(CONFIG_DIR, "fast"), horizons={"1w": 5})


def test_the_version_names_the_members_record_and_the_config(training):
    oof = members_oof()
    version = ensemble_model.ensemble_version(oof, training)
    assert ensemble_model.ensemble_version(oof.sample(frac=1.0, random_state=1), training) == version  # row order
    moved = oof.copy()
    moved.loc[7, "q50"] += 1e-9
    assert ensemble_model.ensemble_version(moved, training) != version
    assert ensemble_model.ensemble_version(oof, dataclasses.replace(training, folds=training.folds + 1)) != version


def test_fitted_stored_registered_then_kept(tmp_path, training):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    oof = members_oof()
    store = str(tmp_path / "store")
    run = ensemble_model.fit(oof, training, store, "sample")
    assert records.stored(store, ensemble_model.ASSET, run.version) is None  # fitted and published, not recorded yet
    records.write(store, ensemble_model.record(run))
    kept = records.stored(store, ensemble_model.ASSET, run.version)
    assert kept is not None and [row["horizon"] for row in kept.registry_rows] == ["1w"]
    records.load(conn, kept)
    assert run.paths["1w"] == registry.model_dir(tmp_path / "store", "models/zl_ensemble", run.version, "1w")

    # noise members earn nothing: the ensemble is climatology, in every honest fold and live
    fitted = run.fitted["1w"]
    assert dict(zip(fitted.members, fitted.weights)) == {"climatology": 1.0, "zl_linear": 0.0, "zl_main": 0.0}
    stored = conn.execute("SELECT * FROM training.oof_predictions WHERE model = 'zl_ensemble' ORDER BY as_of_date").df()
    later = oof[(oof["model"] == "climatology") & (oof["fold"] > 0)].sort_values("as_of_date")
    np.testing.assert_allclose(stored[list(QCOLS)].to_numpy(), later[list(QCOLS)].to_numpy())
    assert run.skill("1w").skill == 0.0
    weights = conn.execute("SELECT member, weight FROM training.ensemble_weights WHERE version = ? ORDER BY member",
                           [run.version]).fetchall()
    assert weights == [("climatology", 1.0), ("zl_linear", 0.0), ("zl_main", 0.0)]
    outcomes = {o.name: o.passed for o in ensemble_model.gates(run, "sample", ensemble_model.load_skill_gates(CONFIG_DIR))}
    assert outcomes["do_no_harm"] and outcomes["quantiles_ordered"]

    # the model store wiped: the registered version is no longer one to keep
    (registry.working_dir(run.paths["1w"]) / "ensemble.json").unlink()
    assert records.stored(store, ensemble_model.ASSET, run.version) is None
    assert conn.execute("SELECT count(*) FROM training.model_registry WHERE model = 'zl_ensemble'").fetchone()[0] == 1
    assert conn.execute("SELECT train_end FROM training.model_registry").fetchone()[0] == oof["as_of_date"].max()
    conn.close()
