"""The model store and registry, one lifecycle for every model: a model version (named by the
data, features and config it learns from) lives in `model_dir(root, asset, version, horizon)`,
holds a manifest (`model.json` for quantile members; the ensemble and the time-series predictor
write their own), and is registered in `training.model_registry`. `registered` says whether a
version can be kept instead of retrained; `load` checks the AutoGluon version it was trained with.

The store is a folder or an object-store URL (s3://bucket/prefix, lib/storage.py). AutoGluon reads
and writes local folders only, so a model is written in its `working_dir` (the folder itself on a
local store; a local cache copy otherwise), `publish`ed when complete, and `fetched` back into the
cache on a machine that lacks the published copy."""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml.models import BASELINES, AutoGluonQuantile, QuantileModel, ShrunkLinear
from cbi_platform.lib.storage import Location

MANIFEST = "model.json"
PUBLISHED = ".published"  # written last by `publish`: a copy whose marker matches is whole and current
CACHE_ENV = "CBI_MODEL_CACHE"
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
    path: str  # a folder or an object-store URL


def model_dir(root: str | Path, model_asset: str, version: str, horizon: str | None = None) -> str:
    """`<root>/<asset name>/<version>[/<horizon>]`: where a model version is stored."""
    return posixpath.join(str(root), model_asset.split("/", 1)[-1], version, *([horizon] if horizon else []))


def _remote(where: str) -> bool:
    return not Location(where).local


def working_dir(where: str) -> Path:
    """The local folder the model stored at `where` is written in and read from."""
    if not _remote(where):
        return Path(where)
    cache = Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "cbi-model-cache")
    return cache / where.split("://", 1)[1]


def publish(where: str) -> None:
    """Copy the finished working folder to an object store (nothing to do on a local store)."""
    if _remote(where):
        location = Location(where)
        local = working_dir(where)
        marker = uuid.uuid4().hex
        (local / PUBLISHED).write_text(marker)
        location.upload_folder(local, location.root)


def fetched(where: str) -> Path:
    """The model's local folder, downloaded first when the store's published copy differs from
    the cached one (a force-retrained version replaces its files)."""
    local = working_dir(where)
    if _remote(where):
        location = Location(where)
        published = location.path(PUBLISHED)
        if not location.exists(published):
            raise ModelVersionError(f"{where} was never published whole: retrain it")
        remote_marker = location.read_bytes(published).decode()
        cached = local / PUBLISHED
        if not cached.exists() or cached.read_text() != remote_marker:
            location.download_folder(location.root, local)
    return local


def _stored(where: str, manifest: str) -> bool:
    if _remote(where):
        location = Location(where)
        return location.exists(location.path(PUBLISHED)) and location.exists(location.path(manifest))
    return (Path(where) / manifest).exists()


def registered(conn: duckdb.DuckDBPyConnection, model_asset: str, version: str, horizons,
               manifest: str = MANIFEST) -> dict[str, dict] | None:
    """The registered metrics of `version` per horizon when every one of `horizons` is registered
    and its directory still holds its `manifest`; else None (the version must be trained)."""
    rows = conn.execute("SELECT horizon, path, metrics FROM training.model_registry WHERE model_asset = ? AND version = ?",
                        [model_asset, version]).fetchall()
    stored = {h: json.loads(m) if m else {} for h, p, m in rows if _stored(p, manifest)}
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


def load(where: str | Path) -> QuantileModel:
    path = fetched(str(where))
    manifest = json.loads((path / MANIFEST).read_text())
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
    return [RegisteredModel(a, v, h, p) for a, v, h, p in rows]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
