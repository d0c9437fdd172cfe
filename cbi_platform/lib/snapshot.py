"""Immutable snapshots of a feature table as Parquet, so a training step reads exactly the rows it
was handed without a warehouse connection, on any worker.

A snapshot is named by its content: `<root>/<name>/<fingerprint>.parquet`, the fingerprint being
the first 16 hex digits of the SHA-256 of the file's bytes. Writing the same rows again finds the
file whole and writes nothing (a damaged one is written again); a reader checks the bytes against
the name, so a truncated or replaced object is refused, never trained on. The root is a folder or
an object-store URL (lib/storage.py).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
from dataclasses import dataclass

import pandas as pd

from cbi_platform.lib.storage import Location

SUFFIX = ".parquet"


class SnapshotError(RuntimeError):
    pass


@dataclass(frozen=True)
class Snapshot:
    name: str  # the table it freezes (a member's matrix, the MES panel)
    url: str
    fingerprint: str
    rows: int

    def as_dict(self) -> dict:
        return {"url": self.url, "fingerprint": self.fingerprint, "rows": self.rows}

    @classmethod
    def from_dict(cls, name: str, body: dict) -> "Snapshot":
        return cls(name, body["url"], body["fingerprint"], int(body["rows"]))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def write(root: str, name: str, frame: pd.DataFrame) -> Snapshot:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    fingerprint = _digest(data)
    location = Location(root)
    path = location.path(name, f"{fingerprint}{SUFFIX}")
    try:
        whole = _digest(location.read_bytes(path)) == fingerprint
    except FileNotFoundError:
        whole = False
    if not whole:  # new, or damaged since: the name says what it must hold
        location.write_bytes(path, data)
    return Snapshot(name, location.url_for(name, f"{fingerprint}{SUFFIX}"), fingerprint, int(len(frame)))


def read(snapshot: Snapshot) -> pd.DataFrame:
    location = Location(posixpath.dirname(snapshot.url))
    path = location.path(posixpath.basename(snapshot.url))
    try:
        data = location.read_bytes(path)
    except FileNotFoundError:
        raise SnapshotError(f"snapshot {snapshot.name} ({snapshot.url}) is gone: materialise its snapshot asset again") from None
    if _digest(data) != snapshot.fingerprint:
        raise SnapshotError(f"snapshot {snapshot.name} ({snapshot.url}) does not match its fingerprint "
                            f"{snapshot.fingerprint}: truncated or replaced; materialise its snapshot asset again")
    return pd.read_parquet(io.BytesIO(data))
