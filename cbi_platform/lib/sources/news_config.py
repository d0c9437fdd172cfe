"""The news feeds' configuration (config/sources/feeds.yaml), validated on load: each feed's URL,
kind (RSS/Atom or a Federal Register query), paging, time zone and bucket keywords, and the
limits every fetch and parse obeys. `payload_meta` carries what parsing needs with the bytes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cbi_platform.lib.config import ConfigError, load_yaml, validate_identifier

# the news topics items are tagged with (the feature buckets news counts feed)
BUCKETS = ("china", "tariff", "fed", "biofuel", "energy", "crush", "fx", "volatility")
KINDS = ("rss", "federal_register")
PAGING = ("wordpress",)


@dataclass(frozen=True)
class FeedSpec:
    id: str
    url: str
    kind: str
    category: str
    busy: bool = False
    paging: str | None = None
    timezone: str = "UTC"
    buckets: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    terms: tuple[str, ...] = ()
    sample: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class NewsConfig:
    feeds: tuple[FeedSpec, ...]
    bucket_rules: Mapping[str, tuple[str, ...]] = field(hash=False, compare=False)
    max_body_chars: int = 20000
    max_payload_bytes: int = 5_000_000
    max_pages: int = 60
    recent_days: int = 14
    federal_register_history_start: dt.date = dt.date(2010, 1, 1)
    federal_register_chunk_days: int = 92
    federal_register_per_page: int = 100

    def feed(self, feed_id: str) -> FeedSpec:
        for spec in self.feeds:
            if spec.id == feed_id:
                return spec
        raise KeyError(feed_id)

    def rules_for(self, feed: FeedSpec) -> dict[str, list[str]]:
        """The shared bucket rules plus the feed's own keywords."""
        rules = {bucket: list(self.bucket_rules.get(bucket, ())) for bucket in BUCKETS}
        for bucket, keywords in feed.buckets.items():
            rules[bucket] = rules[bucket] + [k for k in keywords if k not in rules[bucket]]
        return {bucket: keywords for bucket, keywords in rules.items() if keywords}


def _keywords(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: bucket rules must map bucket -> keyword list")
    rules = {}
    for bucket, keywords in raw.items():
        if bucket not in BUCKETS:
            raise ConfigError(f"{where}: unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
        if not isinstance(keywords, list) or not all(isinstance(k, (str, int)) and str(k).strip() for k in keywords):
            raise ConfigError(f"{where}: bucket {bucket} needs a list of non-empty keywords")
        rules[bucket] = tuple(str(k).strip().lower() for k in keywords)
    return rules


def _zone(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown timezone {name!r}") from exc
    return name


@lru_cache(maxsize=8)
def load_config(config_dir: Path) -> NewsConfig:
    path = Path(config_dir) / "sources" / "feeds.yaml"
    data = load_yaml(path)
    defaults = data.get("defaults", {}) or {}
    register = defaults.get("federal_register", {}) or {}
    shared_rules = _keywords(data.get("buckets"), f"{path}: buckets")
    feeds, seen = [], set()
    for raw in data.get("feeds") or []:
        feed_id = validate_identifier(str(raw.get("id", "")), "feed id")
        where = f"{path}: feed {feed_id}"
        if feed_id in seen:
            raise ConfigError(f"{where}: duplicate feed id")
        seen.add(feed_id)
        kind = str(raw.get("kind", ""))
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
        url = str(raw.get("url", ""))
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise ConfigError(f"{where}: url must be an https URL, got {url!r}")
        paging = raw.get("paging")
        if paging is not None and paging not in PAGING:
            raise ConfigError(f"{where}: paging must be one of {PAGING}")
        terms = tuple(str(t).strip() for t in raw.get("terms") or [] if str(t).strip())
        if kind == "federal_register" and not terms:
            raise ConfigError(f"{where}: a federal_register feed needs search terms")
        feeds.append(FeedSpec(
            id=feed_id,
            url=url,
            kind=kind,
            category=str(raw.get("category", "")),
            busy=bool(raw.get("busy", False)),
            paging=paging,
            timezone=_zone(str(raw.get("timezone", defaults.get("timezone", "UTC"))), where),
            buckets=_keywords(raw.get("buckets"), where),
            terms=terms,
            sample=dict(raw.get("sample") or {}),
        ))
    if not feeds:
        raise ConfigError(f"{path}: no feeds configured")
    return NewsConfig(
        feeds=tuple(feeds),
        bucket_rules=shared_rules,
        max_body_chars=int(defaults.get("max_body_chars", 20000)),
        max_payload_bytes=int(defaults.get("max_payload_bytes", 5_000_000)),
        max_pages=int(defaults.get("max_pages", 60)),
        recent_days=int(defaults.get("recent_days", 14)),
        federal_register_history_start=dt.date.fromisoformat(str(register.get("history_start", "2010-01-01"))),
        federal_register_chunk_days=int(register.get("chunk_days", 92)),
        federal_register_per_page=int(register.get("per_page", 100)),
    )


def payload_meta(config: NewsConfig, feed: FeedSpec, **extra: Any) -> dict[str, Any]:
    """What `parse` needs to know about a payload's feed, carried with the bytes."""
    return {
        "feed": feed.id,
        "kind": feed.kind,
        "timezone": feed.timezone,
        "max_body_chars": config.max_body_chars,
        "max_payload_bytes": config.max_payload_bytes,
        "buckets": config.rules_for(feed),
        **extra,
    }
