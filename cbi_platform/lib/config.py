"""Typed access to the YAML files under `config/`.

Identifiers that come from config (series IDs, symbols, table names) are validated here, once,
so the rest of the code can rely on them being safe tokens. Values are still bound as SQL
parameters everywhere; validation is a second line of defence and catches typos early.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cbi_platform.lib.calendar import SESSION_HOURS

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$")


class ConfigError(ValueError):
    pass


def validate_identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ConfigError(f"invalid {what} {value!r}: expected letters, digits, '_' or '.'")
    return value


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file missing: {path}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def configured_horizons(config_dir: Path) -> dict[str, int]:
    """Forecast horizon name -> trading days, in config/training.yaml's order: the one place
    they are declared (sql/features/300_zl_daily_matrix.sql's targets are checked against it)."""
    horizons = load_yaml(Path(config_dir) / "training.yaml").get("horizons") or {}
    return {validate_identifier(str(name), "horizon"): int(days) for name, days in horizons.items()}


@dataclass(frozen=True)
class SymbolSpec:
    root: str
    name: str
    bucket: str
    exchange: str
    tick_size: float
    contract_size: float
    units: str
    months: str
    expiry_day: int
    expiry_month_offset: int
    listed: dt.date
    cftc_code: str | None
    session: str = "globex"
    options: bool = False
    sample: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def continuous(self) -> tuple[str, str]:
        """Databento continuous symbols: front month and second month (calendar roll)."""
        return (f"{self.root}.c.0", f"{self.root}.c.1")


@dataclass(frozen=True)
class SeriesSpec:
    series_id: str
    category: str
    title: str
    frequency: str  # d, w, m, q
    units: str
    decimals: int
    release: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    sample: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    calendar_days: bool = False
    week_ending: int = 4


@dataclass(frozen=True)
class SourcesConfig:
    symbols: tuple[SymbolSpec, ...]
    series: tuple[SeriesSpec, ...]
    observation_lookback_days: dict[str, int]

    def symbol(self, root: str) -> SymbolSpec:
        for spec in self.symbols:
            if spec.root == root:
                return spec
        raise KeyError(root)

    def series_spec(self, series_id: str) -> SeriesSpec:
        for spec in self.series:
            if spec.series_id == series_id:
                return spec
        raise KeyError(series_id)


def _parse_symbols(data: dict[str, Any]) -> tuple[SymbolSpec, ...]:
    defaults = data.get("defaults", {})
    specs = []
    for root, raw in data["symbols"].items():
        root = validate_identifier(str(root), "symbol root")
        merged = {**defaults, **raw}
        expiry = {**defaults.get("expiry", {}), **raw.get("expiry", {})}
        months = str(merged["months"])
        if not set(months) <= set("FGHJKMNQUVXZ"):
            raise ConfigError(f"symbol {root}: invalid contract months {months!r}")
        session = str(merged.get("session", "globex"))
        if session not in SESSION_HOURS:  # a misspelt template would silently trade on Globex's days
            raise ConfigError(f"symbol {root}: unknown session {session!r}; choose one of {', '.join(SESSION_HOURS)}")
        specs.append(
            SymbolSpec(
                root=root,
                name=str(merged["name"]),
                bucket=str(merged["bucket"]),
                exchange=str(merged["exchange"]),
                tick_size=float(merged["tick_size"]),
                contract_size=float(merged["contract_size"]),
                units=str(merged["units"]),
                months=months,
                expiry_day=int(expiry["day"]),
                expiry_month_offset=int(expiry.get("month_offset", 0)),
                listed=dt.date.fromisoformat(str(merged["listed"])),
                cftc_code=str(merged["cftc_code"]) if merged.get("cftc_code") else None,
                session=session,
                options=bool(merged.get("options", False)),
                sample=dict(merged.get("sample", {})),
            )
        )
    return tuple(specs)


def _parse_series(data: dict[str, Any]) -> tuple[SeriesSpec, ...]:
    specs = []
    for category, members in data["categories"].items():
        for series_id, raw in members.items():
            frequency = str(raw["frequency"])
            if frequency not in {"d", "w", "m", "q"}:
                raise ConfigError(f"series {series_id}: unknown frequency {frequency!r}")
            specs.append(
                SeriesSpec(
                    series_id=validate_identifier(str(series_id), "FRED series id"),
                    category=str(category),
                    title=str(raw["title"]),
                    frequency=frequency,
                    units=str(raw.get("units", "")),
                    decimals=int(raw.get("decimals", 2)),
                    release=dict(raw.get("release", {})),
                    sample=dict(raw.get("sample", {})),
                    calendar_days=bool(raw.get("calendar_days", False)),
                    week_ending=int(raw.get("week_ending", 4)),
                )
            )
    return tuple(specs)


@lru_cache(maxsize=8)
def load_sources(config_dir: Path) -> SourcesConfig:
    symbols = load_yaml(config_dir / "sources" / "symbols.yaml")
    series = load_yaml(config_dir / "sources" / "fred_series.yaml")
    return SourcesConfig(
        symbols=_parse_symbols(symbols),
        series=_parse_series(series),
        observation_lookback_days=dict(series.get("defaults", {}).get("observation_lookback_days", {})),
    )
