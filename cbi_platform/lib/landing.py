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

from cbi_platform.lib.sources.base import Payload, SourceError
from cbi_platform.lib.window import Window


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


def confined(base: Path, *parts: str) -> Path:
    """`base/part/...`, refused unless every part is a plain name and the result stays inside
    `base`: names come from payloads and from `meta.json` files a replay trusts no more than
    any other input (`../../outside/secret.txt`)."""
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise ValueError(f"not a plain file or folder name: {part!r}")
    path = base.joinpath(*parts)
    if not path.resolve().is_relative_to(base.resolve()):
        raise ValueError(f"{path} leaves {base}")
    return path


class LandingZone:
    def __init__(self, root: Path):
        self.root = Path(root)

    def write(self, payload: Payload) -> Path:
        try:
            folder = confined(self.root, payload.source, payload.window.label)
            target = confined(folder, payload.name)
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
                try:
                    meta = json.loads(meta_path.read_text())
                    body_path = confined(folder, str(meta["name"]))
                except (ValueError, KeyError, TypeError) as exc:
                    raise SourceError(source, window, f"replay: {meta_path} is not a landing record this zone "
                                                      f"wrote ({type(exc).__name__}: {exc})") from None
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
