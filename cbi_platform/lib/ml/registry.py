"""The model store and registry, one lifecycle for every model: a model version (named by the
data, features and config it learns from) lives in `model_dir(root, asset, version, horizon)`,
holds a manifest (`model.json` for quantile members; the ensemble and the time-series predictor
write their own), and is registered in `training.model_registry`. `registered` says whether a
version can be kept instead of retrained; `load` checks the AutoGluon version it was trained with."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml.models import BASELINES, AutoGluonQuantile, QuantileModel, ShrunkLinear

MANIFEST = "model.json"
STATISTICAL_MODELS = {**BASELINES, "shrunk_linear": ShrunkLinear}


class ModelVersionError(RuntimeError):
    pass


def installed_autogluon_version() -> str:
    from importlib.metadata import version

    return version("autogluon.tabular")


@dataclass(frozen=True)
class RegisteredModel:
    model_asset: str
    version: str
    horizon: str
    path: Path


def model_dir(root: Path, model_asset: str, version: str, horizon: str | None = None) -> Path:
    """`<root>/<asset name>/<version>[/<horizon>]`: where a model version is stored."""
    path = Path(root) / model_asset.split("/", 1)[-1] / version
    return path / horizon if horizon else path


def registered(conn: duckdb.DuckDBPyConnection, model_asset: str, version: str, horizons,
               manifest: str = MANIFEST) -> dict[str, dict] | None:
    """The registered metrics of `version` per horizon when every one of `horizons` is registered
    and its directory still holds its `manifest`; else None (the version must be trained)."""
    rows = conn.execute("SELECT horizon, path, metrics FROM training.model_registry WHERE model_asset = ? AND version = ?",
                        [model_asset, version]).fetchall()
    stored = {h: json.loads(m) if m else {} for h, p, m in rows if (Path(p) / manifest).exists()}
    return {h: stored[h] for h in horizons} if set(horizons) <= set(stored) else None


def save(model: QuantileModel, path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest (and a statistical model's parameters; AutoGluon saved itself under `path`)."""
    path.mkdir(parents=True, exist_ok=True)
    body = dict(manifest)
    body["kind"] = model.kind
    body["label"] = model.label
    if model.kind == "autogluon":
        body["autogluon_version"] = installed_autogluon_version()
        body["features"] = model.features
    else:
        body["statistical_model"] = next(name for name, cls in STATISTICAL_MODELS.items() if type(model) is cls)
        body["horizon_days"] = model.horizon_days
        body["state"] = model.state()
    (path / MANIFEST).write_text(json.dumps(body, indent=1, default=str))


def load(path: Path) -> QuantileModel:
    manifest = json.loads((Path(path) / MANIFEST).read_text())
    if manifest["kind"] == "autogluon":
        trained, installed = manifest.get("autogluon_version"), installed_autogluon_version()
        if trained != installed:
            raise ModelVersionError(
                f"{path}: trained with AutoGluon {trained}, this environment has {installed}; retrain the model"
            )
        from autogluon.tabular import TabularPredictor

        model = AutoGluonQuantile(manifest["label"], manifest["features"], {}, Path(path))
        model.predictor = TabularPredictor.load(str(path), require_version_match=True)
        return model
    model = STATISTICAL_MODELS[manifest["statistical_model"]](manifest["label"], int(manifest["horizon_days"]))
    model.load_state(manifest["state"])
    return model


def register(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)
    frame["metrics"] = frame["metrics"].map(lambda m: json.dumps(m, default=str))
    for (asset, version), part in frame.groupby(["model_asset", "version"]):
        warehouse.replace_rows(conn, "training.model_registry", part, "model_asset = ? AND version = ?", [asset, version])


def latest(conn: duckdb.DuckDBPyConnection, model: str) -> list[RegisteredModel]:
    """The most recently trained version of a model (by name), one entry per horizon."""
    rows = conn.execute(
        """SELECT model_asset, version, horizon, path FROM training.model_registry
           WHERE model = ? AND version = (
               SELECT version FROM training.model_registry WHERE model = ? ORDER BY trained_at DESC LIMIT 1)
           ORDER BY horizon""",
        [model, model],
    ).fetchall()
    if not rows:
        raise ModelVersionError(f"no registered version of model {model}: materialise its asset first")
    return [RegisteredModel(a, v, h, Path(p)) for a, v, h, p in rows]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
