"""The model store and registry, one lifecycle for every model: a model version (named by the
data, features and config it learns from) lives in `model_dir(root, asset, version, horizon)`,
holds a manifest (`model.json` for quantile members; the ensemble and the time-series predictor
write their own), and is registered in `training.model_registry` from its record (lib/ml/records.py),
which also says whether a version can be kept instead of retrained; `load` checks the AutoGluon
version it was trained with.

The store is a folder or an object-store URL (s3://bucket/prefix, lib/storage.py). AutoGluon reads
and writes local folders only, so a model is written in its `working_dir` (the folder itself on a
local store; a local cache copy otherwise), `publish`ed when complete, and `fetched` back into the
cache on a machine that lacks the published copy."""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml.models import BASELINES, AutoGluonQuantile, QuantileModel, ShrunkLinear, tabular_predictor
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


def _cache_root() -> Path:
    """Local copies of models in an object store: CBI_MODEL_CACHE, else a folder of this user's
    (not a shared /tmp one another user could fill with pickles first)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    root = Path(configured) if configured else Path.home() / ".cache" / "cbi-platform" / "models"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


_STAGING = uuid.uuid4().hex  # this process's training folders: never another process's, even with the same pid


def working_dir(where: str) -> Path:
    """The local folder a model stored at `where` is trained and saved in: the store's own folder
    on a local store; for an object store, a folder private to this process, which readers never
    see (they read published copies)."""
    location = Location(where)
    if location.local:
        return Path(location.root)
    return _cache_root() / "staging" / _STAGING / location.root


def _marker(location: Location) -> str | None:
    try:
        return location.read_bytes(location.path(PUBLISHED)).decode()
    except FileNotFoundError:
        return None


def publish(where: str) -> None:
    """Copy the finished working folder to an object store (nothing to do on a local store). The
    old marker goes first and the new one last, so a copy being replaced or half uploaded is never
    taken for a published one: `stored` says retrain, `fetched` refuses it."""
    location = Location(where)
    if location.local:
        return
    marker = location.path(PUBLISHED)
    if location.exists(marker):
        location.fs.rm_file(marker)
    location.upload_folder(working_dir(where), location.root)
    location.write_bytes(marker, uuid.uuid4().hex.encode())


def fetched(where: str, attempts: int = 3) -> Path:
    """The model's local folder. From an object store: the published copy, downloaded once into a
    cache folder named by its marker and renamed into place whole; a copy in the cache is never
    changed (a retrained version has a new marker, so a new folder)."""
    location = Location(where)
    if location.local:
        return Path(location.root)
    for _ in range(attempts):
        marker = _marker(location)
        if marker is None:
            raise ModelVersionError(f"{where} is not published (never, or being replaced): retrain it, or retry")
        local = _cache_root() / "published" / location.root / marker
        if local.exists():
            return local
        local.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=local.parent, prefix=".download-"))
        try:
            location.download_folder(location.root, staged)
            if _marker(location) == marker:  # not replaced while we read it
                try:
                    os.rename(staged, local)
                except OSError:
                    if not local.exists():  # not a process that installed the same copy first
                        raise
                return local
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    raise ModelVersionError(f"{where} was replaced {attempts} times while it was fetched")


def stored(where: str, manifest: str) -> bool:
    """The published model folder at `where` holds its `manifest`."""
    location = Location(where)
    if location.local:
        return (Path(location.root) / manifest).exists()
    return _marker(location) is not None and location.exists(location.path(manifest))


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
        model = AutoGluonQuantile(manifest["label"], manifest["features"], {}, Path(path))
        model.predictor = tabular_predictor().load(str(path), require_version_match=True)
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
        raise ModelVersionError(f"no registered version of model {model}: materialise its asset, then "
                                f"models/training_tables")
    return [RegisteredModel(a, v, h, p) for a, v, h, p in rows]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
