"""A trained model version's record: everything its training step produced for the warehouse
(registry rows, out-of-fold predictions, the ensemble's weights), written as files in the model
store beside the model folders. Training steps write records and never open the warehouse; one
small step (models/training_tables) `load`s them into training.*.

A record lives in `<model store>/records/<asset name>/<version>/`: Parquet files (registry rows,
out-of-fold predictions, one per extra table and per report: leaderboards, feature importances,
kept with the version and not loaded), each named for the training that wrote it and never
changed, then `record.json` last, naming them: a record without it is incomplete and never
loaded. A version trained again (force_retrain) writes new files and a new `record.json`, which
replaces the old one whole, so a reader sees one training or the other, never a mix.
"""

from __future__ import annotations

import io
import json
import posixpath
import uuid
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import registry
from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.storage import Location

MARKER = "record.json"
OOF_COLUMNS = ["model", "horizon", "as_of_date", "fold", *QCOLS, "realised", "model_version"]
TABLES = {"ensemble_weights"}  # training.<table> rows a record may carry, replaced by version


class RecordError(RuntimeError):
    pass


@dataclass
class Record:
    model_asset: str
    model: str
    version: str
    manifest: str  # the file each registered model folder holds once saved (registry.stored)
    registry_rows: list[dict]
    oof: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    reports: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. leaderboard_1w: read by people


def record_url(root: str, model_asset: str, version: str) -> str:
    return registry.model_dir(posixpath.join(str(root), "records"), model_asset, version)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def oof_frame(oof: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold rows as training.oof_predictions returns them (DATE and INTEGER as DuckDB hands
    them to pandas), so a reader of the record sees what a reader of the table saw."""
    frame = oof[OOF_COLUMNS].copy()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.normalize().astype("datetime64[us]")
    frame["fold"] = frame["fold"].astype("int32")
    return frame.reset_index(drop=True)


def write(root: str, record: Record) -> str:
    """Write the record; returns its URL."""
    unknown = set(record.tables) - TABLES
    if unknown:
        raise RecordError(f"{record.model_asset} {record.version}: no training table {sorted(unknown)}")
    clashing = set(record.reports) & (TABLES | {"registry", "oof"})
    if clashing:
        raise RecordError(f"{record.model_asset} {record.version}: report names {sorted(clashing)} are taken")
    location = Location(record_url(root, record.model_asset, record.version))
    rows = pd.DataFrame(record.registry_rows)
    rows["metrics"] = rows["metrics"].map(lambda m: json.dumps(m, default=str))
    frames = {"registry": rows, **({"oof": oof_frame(record.oof)} if record.oof is not None else {}),
              **record.tables, **record.reports}
    training = uuid.uuid4().hex[:12]
    files = {name: f"{name}.{training}.parquet" for name in frames}
    for name, frame in frames.items():
        location.write_bytes(location.path(files[name]), _parquet(frame))
    body = {"model_asset": record.model_asset, "model": record.model, "version": record.version,
            "manifest": record.manifest, "files": files, "tables": sorted(record.tables), "reports": sorted(record.reports)}
    location.write_bytes(location.path(MARKER), json.dumps(body, indent=1).encode())
    return location.url


def read(url: str) -> Record:
    location = Location(url)
    try:
        body = json.loads(location.read_bytes(location.path(MARKER)))
    except FileNotFoundError:
        raise RecordError(f"no complete training record at {url}: retrain that model") from None
    except ValueError as exc:
        raise RecordError(f"training record {url}: {MARKER} unreadable ({exc}); retrain that model") from None

    def frame(name: str) -> pd.DataFrame:
        path = location.path(body["files"][name])
        try:
            return pd.read_parquet(io.BytesIO(location.read_bytes(path)))
        except Exception as exc:  # gone or damaged: the record cannot be trusted, whatever the reader
            raise RecordError(f"training record {url}: {body['files'][name]} unreadable ({exc}); retrain that model") from None

    rows = frame("registry")
    rows["metrics"] = rows["metrics"].map(lambda m: json.loads(m) if m else {})
    rows = rows.astype(object).where(rows.notna(), None)
    return Record(body["model_asset"], body["model"], body["version"], body["manifest"], rows.to_dict("records"),
                  frame("oof") if "oof" in body["files"] else None, {table: frame(table) for table in body["tables"]},
                  {name: frame(name) for name in body["reports"]})


def stored_at(url: str, version: str) -> Record | None:
    """The record at `url` when it is `version`'s, complete, and every model folder it registers
    still holds its manifest; else None."""
    try:
        record = read(url)
    except RecordError:
        return None
    if record.version == version and all(registry.stored(row["path"], record.manifest) for row in record.registry_rows):
        return record
    return None


def stored(root: str, model_asset: str, version: str) -> Record | None:
    """The version's record in the store at `root`, when it can be kept (stored_at); else None
    (the version must be trained)."""
    return stored_at(record_url(root, model_asset, version), version)


def loaded(conn: duckdb.DuckDBPyConnection, record: Record) -> bool:
    """training.* already holds this record: its registry rows from the same training and, for a
    record with out-of-fold predictions, the model's rows are this version's, as many."""
    trained_at = [pd.Timestamp(row["trained_at"]).to_pydatetime() for row in record.registry_rows]
    registered = conn.execute(
        "SELECT count(*) FROM training.model_registry WHERE model_asset = ? AND version = ? AND trained_at IN (SELECT unnest(?))",
        [record.model_asset, record.version, trained_at]).fetchone()[0]
    if registered != len(record.registry_rows):
        return False
    if record.oof is None:
        return True
    counts = conn.execute("SELECT count(*), count(*) FILTER (WHERE model_version = ?) FROM training.oof_predictions "
                          "WHERE model = ?", [record.version, record.model]).fetchone()
    return counts[0] == counts[1] == len(record.oof)


def load(conn: duckdb.DuckDBPyConnection, record: Record) -> None:
    """Into training.*: the model's out-of-fold rows replace its previous ones, its tables' rows
    replace the version's, and the version is registered (last: a registered version is whole)."""
    if record.oof is not None:
        warehouse.replace_rows(conn, "training.oof_predictions", record.oof[OOF_COLUMNS], "model = ?", [record.model])
    for table, frame in record.tables.items():
        warehouse.replace_rows(conn, f"training.{table}", frame, "version = ?", [record.version])
    registry.register(conn, record.registry_rows)
