"""The landing zone: every fetched payload is kept, byte for byte, before it is parsed.

Layout: `<root>/<source>/<window label>/<payload name>` plus `<payload name>.meta.json` with the
(redacted) request, the wire format, a sha256 and the fetch time. The root is a directory or an
object-store URL (lib/storage.py); a crash never leaves half a payload behind, and the metadata is
written after its payload, so a record a replay finds is whole. `replay` mode reads payloads
back for any window that overlaps the one asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
from pathlib import Path

from cbi_platform.lib.sources.base import Payload, SourceError
from cbi_platform.lib.storage import Location
from cbi_platform.lib.window import Window


def _window_from_label(label: str) -> Window | None:
    history = label.endswith("+history")
    core = label.removesuffix("+history")
    try:
        if "_" in core:
            first, last = core.split("_", 1)
            start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        else:
            start = end = dt.date.fromisoformat(core)
    except ValueError:
        return None
    return Window(start, end + dt.timedelta(days=1), history)


def plain_name(part: str) -> str:
    """Refused unless a plain file or folder name: names come from payloads and from `meta.json`
    files a replay trusts no more than any other input (`../../outside/secret.txt`)."""
    if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
        raise ValueError(f"not a plain file or folder name: {part!r}")
    return part


class LandingZone:
    def __init__(self, root: str | Path):
        self.location = Location(root)

    @property
    def root(self) -> str:
        return self.location.url

    def _path(self, *parts: str) -> str:
        return self._inside(self.location.path(*(plain_name(part) for part in parts)))

    def _inside(self, path: str) -> str:
        """On a local disk also refused when a symlink leads it out of the zone (a zone restored
        from an archive is as untrusted as a payload)."""
        if self.location.local and not Path(path).resolve().is_relative_to(Path(self.location.root).resolve()):
            raise ValueError(f"{path} leaves the landing zone {self.location.root}")
        return path

    def write(self, payload: Payload) -> str:
        try:
            folder = self._path(payload.source, payload.window.label)
            target = posixpath.join(folder, plain_name(payload.name))
        except ValueError as exc:
            raise SourceError(payload.source, payload.window, f"landing: {exc}") from None
        meta = {
            "source": payload.source,
            "name": payload.name,
            "format": payload.format,
            "request": payload.request,
            "window": payload.window.label,
            "sha256": payload.sha256,
            "bytes": len(payload.body),
            "fetched_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "meta": payload.meta,
        }
        self.location.write_bytes(target, payload.body)
        self.location.write_bytes(posixpath.join(folder, f"{payload.name}.meta.json"),
                                  json.dumps(meta, indent=1, default=str).encode())
        return target

    def _records(self, source: str, window: Window, folder: str, fetched: Window) -> list[tuple[dict, str]]:
        """(metadata, payload path) of every record in one landed folder."""
        records = []
        for meta_name in (name for name in self.location.files(folder) if name.endswith(".meta.json")):
            meta_path = posixpath.join(folder, meta_name)
            try:
                meta = json.loads(self.location.read_bytes(meta_path))
                body_path = self._inside(posixpath.join(folder, plain_name(str(meta["name"]))))
            except (ValueError, KeyError, TypeError) as exc:
                raise SourceError(source, window, f"replay: {meta_path} is not a landing record this zone "
                                                  f"wrote ({type(exc).__name__}: {exc})") from None
            records.append((meta, body_path))
        return records

    def read(self, source: str, window: Window) -> list[Payload]:
        """Payloads whose fetch window overlaps `window`, oldest fetch first."""
        try:
            base = self._path(source)
        except ValueError as exc:
            raise SourceError(source, window, f"replay: {exc}") from None
        folders = self.location.folders(base)
        if not folders:
            raise SourceError(source, window, f"replay: no landing zone at {base}")
        found: list[tuple[str, Payload]] = []
        for label in folders:
            fetched = _window_from_label(label)
            if fetched is None or not fetched.overlaps(window):
                continue
            for meta, body_path in self._records(source, window, posixpath.join(base, label), fetched):
                if not self.location.is_file(body_path):
                    raise SourceError(source, window, f"replay: {body_path} is missing but its metadata exists")
                payload = Payload(
                    source=source,
                    name=meta["name"],
                    format=meta["format"],
                    body=self.location.read_bytes(body_path),
                    request=meta["request"],
                    window=fetched,
                    meta=meta.get("meta", {}),
                )
                found.append((meta["fetched_at"], payload))
        if not found:
            raise SourceError(source, window, f"replay: nothing landed under {base} for this window")
        return [payload for _, payload in sorted(found, key=lambda item: item[0])]

    def newest(self, source: str, name: str, with_any_of: tuple[str, ...] = ()) -> tuple[bytes, dict] | None:
        """The most recently fetched payload named `name` of `source` in any window, with its
        record's `meta`, among records whose `meta` has one of `with_any_of` (e.g. a feed's ETag);
        None when none landed whole."""
        base = self._path(source)
        newest: tuple[str, str, dict] | None = None
        for label in self.location.folders(base):
            meta_path = posixpath.join(base, label, f"{plain_name(name)}.meta.json")
            try:
                meta = json.loads(self.location.read_bytes(meta_path))
            except (OSError, ValueError):
                continue
            try:
                body_path = self._inside(posixpath.join(base, label, name))
            except ValueError:
                continue
            fetched_at, inner = str(meta.get("fetched_at", "")), meta.get("meta") or {}
            wanted = not with_any_of or any(inner.get(key) for key in with_any_of)
            if meta.get("name") == name and wanted and self.location.is_file(body_path) and (newest is None or fetched_at > newest[0]):
                newest = (fetched_at, body_path, inner)
        if newest is None:
            return None
        return self.location.read_bytes(newest[1]), newest[2]
