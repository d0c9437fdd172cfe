"""Per-source limits on one payload (config/sources/limits.yaml): request deadline, bytes on
the wire, decompressed bytes, parsed rows. Read once per source and validated here."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from cbi_platform.lib.config import ConfigError, load_yaml


@dataclass(frozen=True)
class SourceLimits:
    deadline_seconds: float = 300.0
    max_response_bytes: int = 64 * 2**20
    max_decompressed_bytes: int = 512 * 2**20
    max_rows: int = 2_000_000


def _validated(values: dict, where: str) -> dict:
    known = {f.name: f.type for f in fields(SourceLimits)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown limits {sorted(unknown)}; expected {sorted(known)}")
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{where}: {name} must be a positive number, got {value!r}")
    return values


@lru_cache(maxsize=None)
def _table(config_dir: Path) -> tuple[dict, dict]:
    path = Path(config_dir) / "sources" / "limits.yaml"
    if not path.exists():
        return {}, {}
    data = load_yaml(path)
    default = _validated(dict(data.get("default") or {}), f"{path} default")
    per_source = {str(name): _validated(dict(values or {}), f"{path} sources.{name}")
                  for name, values in (data.get("sources") or {}).items()}
    return default, per_source


def limits_for(config_dir: Path | None, source: str) -> SourceLimits:
    """The limits of `source`: built-in defaults, then the file's `default`, then its own entry."""
    if config_dir is None:
        return SourceLimits()
    default, per_source = _table(Path(config_dir).resolve())
    return SourceLimits(**{**default, **per_source.get(source, {})})


DECOMPRESSED_LIMIT_META = "max_decompressed_bytes"


def decompressed_limit(meta: dict) -> int:
    """The decompressed-bytes cap a parser applies: set on the payload by ingestion (from this
    file's config, in every mode), else the built-in default."""
    return int(meta.get(DECOMPRESSED_LIMIT_META) or SourceLimits.max_decompressed_bytes)


def check_zstd_frames(body: bytes, limit: int, what: str) -> int:
    """Walk every zstd frame of `body` without keeping the output: a frame cut short (the
    decoders stop quietly at a truncated last frame) or more than `limit` decompressed bytes
    raises ValueError. Input goes in 1 KiB steps, so one step yields at most ~32 MiB (a zstd
    block decompresses to at most 128 KiB). Returns the decompressed size."""
    import zstandard

    total, position, step = 0, 0, 1024
    while position < len(body):
        frame = zstandard.ZstdDecompressor().decompressobj()
        while not frame.eof:
            if position >= len(body):
                raise ValueError(f"{what}: truncated zstd stream (the last frame ends early, after {total:,} "
                                 "decompressed bytes)")
            chunk = body[position:position + step]
            total += len(frame.decompress(chunk))
            if total > limit:
                raise ValueError(f"{what}: more than {limit:,} bytes once decompressed "
                                 "(config/sources/limits.yaml max_decompressed_bytes)")
            position += len(chunk) - (len(frame.unused_data) if frame.eof else 0)
    return total
