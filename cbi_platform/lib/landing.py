"""The landing zone: every fetched payload is kept, byte for byte, before it is parsed.

Layout: `<root>/<source>/<window label>/<payload name>` plus `<payload name>.meta.json` with the
(redacted) request, the wire format, a sha256 and the fetch time. Writes go to a temporary
file and are renamed into place, so a crash never leaves half a payload behind. `replay` mode
reads payloads back for any window that overlaps the one asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from cbi_platform.lib.sources.base import Payload, SourceError, Window


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


class LandingZone:
    def __init__(self, root: Path):
        self.root = Path(root)

    def write(self, payload: Payload) -> Path:
        folder = self.root / payload.source / payload.window.label
        target = folder / payload.name
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
        _atomic_write(target, payload.body)
        _atomic_write(folder / f"{payload.name}.meta.json", json.dumps(meta, indent=1, default=str).encode())
        return target

    def read(self, source: str, window: Window) -> list[Payload]:
        """Payloads whose fetch window overlaps `window`, oldest fetch first."""
        base = self.root / source
        if not base.is_dir():
            raise SourceError(source, window, f"replay: no landing zone at {base}")
        found: list[tuple[str, Payload]] = []
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            fetched = _window_from_label(folder.name)
            if fetched is None or not fetched.overlaps(window):
                continue
            for meta_path in sorted(folder.glob("*.meta.json")):
                meta = json.loads(meta_path.read_text())
                body_path = folder / meta["name"]
                if not body_path.exists():
                    raise SourceError(source, window, f"replay: {body_path} is missing but its metadata exists")
                payload = Payload(
                    source=source,
                    name=meta["name"],
                    format=meta["format"],
                    body=body_path.read_bytes(),
                    request=meta["request"],
                    window=fetched,
                    meta=meta.get("meta", {}),
                )
                found.append((meta["fetched_at"], payload))
        if not found:
            raise SourceError(source, window, f"replay: nothing landed under {base} for this window")
        return [payload for _, payload in sorted(found, key=lambda item: item[0])]
