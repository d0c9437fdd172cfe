"""News and policy: RSS/Atom feeds and the Federal Register API -> raw.news_items.

Feeds are configured in config/sources/feeds.yaml, validated by news_config.py (farm policy and
farmdoc WordPress category feeds, central banks, agencies, USTR, the Federal Register); text and
sentiment come from lib/text.py. Each item becomes one row with its
plain text, the feature buckets its text mentions (china, tariff, fed, biofuel, ...) and its
Loughran-McDonald sentiment, dated by its own publication time (UTC).

- RSS/Atom is parsed by `feedparser`, which tolerates broken XML: a feed that still yields items
  is parsed, one that yields none (or an HTML page, or anything that is not a feed) is a
  ParseError. HTML is turned into text by BeautifulSoup (script/style/iframe dropped, entities
  decoded, whitespace normalised). The article text is content:encoded (Atom: content) or, for
  the Federal Register, the abstract; linked pages are never fetched.
- Conditional GET: `poll` is the small, stateless API of the polling sensor: validators in
  (ETag / Last-Modified of the previous poll), a PollResult out (status, new validators, payload
  or None on 304). The daily `fetch` finds the validators of the feed's last landed copy in the
  landing zone; on 304 it re-uses that copy, since "not modified" means the landed bytes are
  still the feed: dropping them would lose the items a re-run of the window needs.
- WordPress feeds page back in time (`?paged=N`, 404 past the last page), so a backfill can reach
  older items; other feeds only show their latest items. The Federal Register is queried by
  publication-date range per configured term and paged with next_page_url / total_pages.
- `parse` is pure: the settings it needs (feed id, limits, bucket rules, the zone of naive
  dates) travel in the payload's meta, so a replay parses exactly as the fetch would have.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError, decode_json_object
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.sources.news_config import BUCKETS, FeedSpec, NewsConfig, load_config, payload_meta
from cbi_platform.lib.text import cap_text, html_to_text, lm_sentiment, normalise_space
from cbi_platform.lib.window import Window

log = logging.getLogger(__name__)

SOURCE = "news"
VALIDATORS = ("etag", "last_modified")  # what a conditional GET sends back (ETag, Last-Modified)
COLUMNS = ["source", "guid", "url", "published_at", "title", "summary", "body", "categories", "buckets",
           "sentiment", "sentiment_positive", "sentiment_negative", "as_of_date"]
# the table this source fills, declared once (sql/schema creates it; a test checks they agree)
TABLE_SPEC = TableSpec("raw.news_items", ("source", "guid"), key_column="source", rows_roll_off=True)
TABLE, PRIMARY_KEY = TABLE_SPEC.name, TABLE_SPEC.primary_key
RSS_FORMAT = "rss"
FEDERAL_REGISTER_FORMAT = "federal_register_json"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
UTC = dt.timezone.utc
EASTERN = ZoneInfo("America/New_York")
# The daily Federal Register issue goes online at 06:00 Eastern on its publication date.
FEDERAL_REGISTER_ONLINE = dt.time(6, 0)
_TRUNCATION_MARKER = re.compile(r"\s*\[(?:\u2026|\.\.\.)\]\s*$")  # WordPress excerpts end in "[&#8230;]"
# ============================================================================ fetch
def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    """Every configured feed: RSS/Atom (conditional GET, WordPress pages back to the window's
    start) and the Federal Register (date-range queries per term, all pages)."""
    config = load_config(ctx.config_dir)
    if ctx.mode == "files":
        return _fetch_files(window, ctx, config)
    payloads: list[Payload] = []
    with ctx.http(SOURCE, window) as client:
        for feed in config.feeds:
            if feed.kind == "rss":
                payloads.extend(_fetch_rss(client, window, ctx, config, feed))
            else:
                payloads.extend(_fetch_federal_register(client, window, ctx, config, feed))
    return payloads


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def conditional_headers(validators: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"Accept": FEED_ACCEPT}
    if validators and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def _new_validators(status: int, headers: Mapping[str, str], previous: Mapping[str, str] | None) -> dict[str, str]:
    """The validators to send next time: the response's; a 304 keeps the old ones it does not
    repeat (they still describe the copy the caller has), a 200 replaces them all."""
    kept = previous if status == 304 else None
    validators = {k: v for k, v in (kept or {}).items() if k in VALIDATORS and v}
    for key, header in (("etag", "etag"), ("last_modified", "last-modified")):
        value = _header(headers, header)
        if value:
            validators[key] = value
    return validators


def _rss_payload(config: NewsConfig, feed: FeedSpec, window: Window, body: bytes, request: str, page: int,
                 validators: Mapping[str, str], **extra: Any) -> Payload:
    name = f"{feed.id}.xml" if page == 1 else f"{feed.id}.p{page}.xml"
    return Payload(SOURCE, name, RSS_FORMAT, body, request, window,
                   payload_meta(config, feed, page=page, **dict(validators), **extra))


@dataclass(frozen=True)
class PollResult:
    """One conditional GET of a feed: 200 with a payload, or 304 (nothing new) without one."""

    feed: str
    status: int
    validators: dict[str, str]  # ETag / Last-Modified to send on the next poll
    payload: Payload | None

    @property
    def modified(self) -> bool:
        return self.payload is not None


def poll(ctx: FetchContext, feed: FeedSpec | str, validators: Mapping[str, str] | None = None,
         window: Window | None = None) -> PollResult:
    """Conditional GET of one RSS feed for a polling sensor. The caller keeps the validators
    (`{"etag": ..., "last_modified": ...}`) between polls; this function keeps no state. The
    payload's window is `window`, by default the day `ctx.today`."""
    config = load_config(ctx.config_dir)
    spec = feed if isinstance(feed, FeedSpec) else config.feed(feed)
    if spec.kind != "rss":
        raise ValueError(f"poll: {spec.id} is a {spec.kind} query, not a feed; the daily fetch covers it")
    window = window or Window(ctx.today, ctx.today + dt.timedelta(days=1))
    with ctx.http(SOURCE, window) as client:
        result = client.get(spec.url, headers=conditional_headers(validators),
                            accept_statuses=(200, 304) if validators else (200,))
    new_validators = _new_validators(result.status, result.headers, validators)
    if result.status == 304:
        return PollResult(spec.id, 304, new_validators, None)
    payload = _rss_payload(config, spec, window, result.body, f"GET {result.url}", 1, new_validators, status=200)
    return PollResult(spec.id, 200, new_validators, payload)


def _landed_copy(ctx: FetchContext, feed: FeedSpec) -> tuple[bytes, dict[str, str]] | None:
    """The feed's most recently landed first page and its validators."""
    landed = ctx.landing.newest(SOURCE, f"{feed.id}.xml", with_any_of=VALIDATORS)
    if landed is None:
        return None
    body, inner = landed
    return body, {k: inner[k] for k in VALIDATORS if inner.get(k)}


def _fetch_rss(client, window: Window, ctx: FetchContext, config: NewsConfig, feed: FeedSpec) -> list[Payload]:
    cached = _landed_copy(ctx, feed)
    validators = cached[1] if cached else {}
    result = client.get(feed.url, headers=conditional_headers(validators),
                        accept_statuses=(200, 304) if validators else (200,))
    new_validators = _new_validators(result.status, result.headers, validators)
    if result.status == 304:
        payload = _rss_payload(config, feed, window, cached[0], f"GET {result.url} (304: landed copy)", 1,
                               new_validators, status=304, not_modified=True)
    else:
        payload = _rss_payload(config, feed, window, result.body, f"GET {result.url}", 1, new_validators, status=200)
    payloads = [payload]
    if feed.paging != "wordpress":
        return payloads
    page = 1
    while _reaches_back(payload, window):
        if page >= config.max_pages:
            log.warning("%s: %s still reaches into %s after %d pages; older items are left out",
                        SOURCE, feed.id, window.label, page)
            break
        page += 1
        result = client.get(feed.url, params={"paged": str(page)}, headers={"Accept": FEED_ACCEPT},
                            accept_statuses=(200, 404))
        if result.status == 404:  # WordPress answers 404 past its last page
            break
        payload = _rss_payload(config, feed, window, result.body, f"GET {result.url}", page,
                               _new_validators(result.status, result.headers, None), status=200)
        payloads.append(payload)
    return payloads


def _reaches_back(payload: Payload, window: Window) -> bool:
    """Whether the page's oldest item is still inside the window (so older pages may be too)."""
    published = [p for p in (_published(e, _meta_zone(payload)) for e in _feed_entries(payload)) if p is not None]
    if not published:
        return False
    return window.include_history or min(published).date() >= window.start


def _date_chunks(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    chunks, start = [], first
    while start <= last:
        end = min(last, start + dt.timedelta(days=max(days, 1) - 1))
        chunks.append((start, end))
        start = end + dt.timedelta(days=1)
    return chunks


def _fetch_federal_register(client, window: Window, ctx: FetchContext, config: NewsConfig,
                            feed: FeedSpec) -> list[Payload]:
    first = config.federal_register_history_start if window.include_history else window.start
    last = min(window.last_day, ctx.today)
    api = urlsplit(feed.url)
    payloads = []
    for term in feed.terms:
        slug = re.sub(r"[^a-z0-9]+", "_", term.lower()).strip("_")
        for start, end in _date_chunks(first, last, config.federal_register_chunk_days):
            url: str = feed.url
            params: dict[str, str] | None = {
                "conditions[term]": term,
                "conditions[publication_date][gte]": start.isoformat(),
                "conditions[publication_date][lte]": end.isoformat(),
                "order": "newest",
                "per_page": str(config.federal_register_per_page),
                "page": "1",
            }
            page = 1
            while True:
                result = client.get(url, params=params, headers={"Accept": "application/json"})
                name = f"{feed.id}.{slug}.{start}_{end}.p{page}.json"
                payloads.append(Payload(SOURCE, name, FEDERAL_REGISTER_FORMAT, result.body, f"GET {result.url}",
                                        window, payload_meta(config, feed, term=term, page=page)))
                document = _load_json(result.body, window, name)
                total_pages = int(document.get("total_pages") or 0)
                if total_pages > config.max_pages:
                    raise SourceError(SOURCE, window, f"{name}: {total_pages} pages for one query (more than "
                                      f"max_pages {config.max_pages}); lower federal_register.chunk_days")
                next_url = document.get("next_page_url")
                if page >= total_pages or not next_url:
                    break
                target = urlsplit(str(next_url))
                if (target.scheme, target.hostname) != (api.scheme, api.hostname):
                    raise ParseError(SOURCE, window, f"{name}: next_page_url leaves {api.hostname}: {next_url!r}")
                url, params, page = str(next_url), None, page + 1
    return payloads


def _fetch_files(window: Window, ctx: FetchContext, config: NewsConfig) -> list[Payload]:
    """Saved feeds: <files_dir>/news/<feed id>*.xml (RSS/Atom) and <feed id>*.json (Federal
    Register API responses)."""
    folder = ctx.files_dir / "news"
    payloads = []
    for feed in config.feeds:
        pattern, fmt = (f"{feed.id}*.xml", RSS_FORMAT) if feed.kind == "rss" else (f"{feed.id}*.json", FEDERAL_REGISTER_FORMAT)
        for page, path in enumerate(sorted(folder.glob(pattern)), start=1):
            payloads.append(Payload(SOURCE, path.name, fmt, path.read_bytes(), str(path), window,
                                    payload_meta(config, feed, page=page)))
    return payloads  # none supplied: the table stays empty and its no_gaps check warns


# ============================================================================ parse
@dataclass(frozen=True)
class _Settings:
    feed: str
    zone: dt.tzinfo
    max_body_chars: int
    max_payload_bytes: int
    rules: tuple[tuple[str, tuple[str, ...]], ...]


def _settings(payload: Payload) -> _Settings:
    meta = payload.meta or {}
    missing = [k for k in ("feed", "max_body_chars", "max_payload_bytes", "buckets") if k not in meta]
    if missing:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: payload meta lacks {missing}")
    rules = tuple((bucket, tuple(meta["buckets"][bucket])) for bucket in BUCKETS if meta["buckets"].get(bucket))
    return _Settings(str(meta["feed"]), _meta_zone(payload), int(meta["max_body_chars"]),
                     int(meta["max_payload_bytes"]), rules)


def _meta_zone(payload: Payload) -> dt.tzinfo:
    name = (payload.meta or {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown timezone {name!r}") from None


def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format == RSS_FORMAT:
        return {TABLE: parse_feed(payload)}
    if payload.format == FEDERAL_REGISTER_FORMAT:
        return {TABLE: parse_federal_register(payload)}
    raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")


def _checked_body(payload: Payload, settings: _Settings) -> bytes:
    if len(payload.body) > settings.max_payload_bytes:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: {len(payload.body)} bytes is over the "
                         f"{settings.max_payload_bytes}-byte limit")
    if not payload.body.strip():
        raise ParseError(SOURCE, payload.window, f"{payload.name}: empty body")
    return payload.body


def _feed_entries(payload: Payload) -> list:
    """feedparser's entries of an RSS/Atom payload; ParseError when it is not a feed."""
    import feedparser  # imported when a feed is parsed: keeps definition load light

    # a stream, never bytes or str: feedparser treats a string as a URL or a file name to open
    parsed = feedparser.parse(io.BytesIO(payload.body))
    entries = list(parsed.get("entries") or [])
    head = payload.body.lstrip()[:80]
    if parsed.get("bozo") and not entries:
        problem = parsed.get("bozo_exception")
        raise ParseError(SOURCE, payload.window, f"{payload.name}: not a well-formed feed and no items ({problem}); "
                         f"starts {head!r}")
    if not parsed.get("version"):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: not an RSS/Atom feed (an HTML page or other "
                         f"document?): starts {head!r}")
    root = _unclosed_root(payload.body)
    if root:
        # feedparser's lenient parser keeps the items before the cut and drops the rest quietly
        raise ParseError(SOURCE, payload.window, f"{payload.name}: truncated feed (the document does not end with "
                         f"</{root}>; ends {payload.body.rstrip()[-40:]!r})")
    return entries


_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w:.-]*)")


def _unclosed_root(body: bytes) -> str | None:
    """The root element's name when the document does not end by closing it, else None (the
    prolog's `<?xml`, `<!DOCTYPE` and comments are not elements)."""
    text = re.sub(rb"<!--.*?-->", b"", body.removeprefix(b"\xef\xbb\xbf"), flags=re.S)
    match = _ROOT_TAG.search(text)
    if match is None:
        return None
    name = match.group(1)
    closing = re.compile(rb"</" + re.escape(name) + rb"\s*>\s*$")
    return None if closing.search(text[-1024:]) else name.decode("ascii", "replace")


def parse_feed(payload: Payload) -> pd.DataFrame:
    settings = _settings(payload)
    _checked_body(payload, settings)
    entries = _feed_entries(payload)
    rows, undated = [], 0
    for entry in entries:
        published = _published(entry, settings.zone)
        if published is None:
            undated += 1
            continue
        title = _entry_title(entry)
        url = str(entry.get("link") or "").strip()
        guid = str(entry.get("id") or "").strip() or url
        if not guid:  # neither guid nor link: the item's own content is its identity
            guid = "sha256:" + hashlib.sha256(f"{title}|{published.isoformat()}".encode()).hexdigest()[:32]
        summary = _TRUNCATION_MARKER.sub("", html_to_text(str(entry.get("summary") or "")))
        content = " ".join(str(part.get("value") or "") for part in entry.get("content") or [])
        categories = [str(tag.get("term") or tag.get("label") or "").strip() for tag in entry.get("tags") or []]
        rows.append(_row(settings, guid, url, published, title, summary, html_to_text(content), categories))
    if undated and not rows and _is_bozo(payload):
        # broken XML whose only "items" are fragments (a truncated download): nothing usable
        raise ParseError(SOURCE, payload.window, f"{payload.name}: not a well-formed feed and no complete items")
    if undated:
        log.warning("%s: %s: %d item(s) without a publication date skipped", SOURCE, payload.name, undated)
    return _frame(rows, payload)


def _is_bozo(payload: Payload) -> bool:
    import feedparser

    return bool(feedparser.parse(io.BytesIO(payload.body)).get("bozo"))


def _entry_title(entry) -> str:
    title = str(entry.get("title") or "")
    detail = entry.get("title_detail") or {}
    if "html" in str(detail.get("type", "")):
        return html_to_text(title)
    return normalise_space(title)


def _published(entry, zone: dt.tzinfo) -> dt.datetime | None:
    """The entry's publication time in UTC: published, else updated. Dates without a zone are
    read in the feed's configured zone."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        value = parse_timestamp(str(raw), zone)
        if value is not None:
            return value
        struct = entry.get(f"{key}_parsed")  # feedparser's own parse (UTC) of odd formats
        if struct:
            return dt.datetime(*struct[:6], tzinfo=UTC)
    return None


def parse_timestamp(text: str, zone: dt.tzinfo = UTC) -> dt.datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom) -> aware UTC datetime; naive times are in `zone`."""
    text = text.strip()
    value: dt.datetime | None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        value = None
    if value is not None and value.tzinfo is None and re.search(r"[-+]0000$", text):
        value = value.replace(tzinfo=UTC)  # RFC 5322 "-0000": UTC
    if value is None:
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _load_json(body: bytes, window: Window, name: str) -> dict:
    document = decode_json_object(body, SOURCE, window, name)
    if "errors" in document:
        raise SourceError(SOURCE, window, f"{name}: Federal Register error {document['errors']}")
    return document


def parse_federal_register(payload: Payload) -> pd.DataFrame:
    settings = _settings(payload)
    _checked_body(payload, settings)
    document = _load_json(payload.body, payload.window, payload.name)
    results = document.get("results")
    if results is None and document.get("count") == 0:
        return pd.DataFrame(columns=COLUMNS)  # an empty result may come without a results list
    if not isinstance(results, list):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: no 'results' list")
    rows = []
    for doc in results:
        if not isinstance(doc, dict):
            raise ParseError(SOURCE, payload.window, f"{payload.name}: a result is not an object")
        number, published_on = doc.get("document_number"), doc.get("publication_date")
        if not number or not published_on:
            raise ParseError(SOURCE, payload.window, f"{payload.name}: a document lacks document_number or "
                             f"publication_date ({str(doc)[:80]})")
        try:
            day = dt.date.fromisoformat(str(published_on)[:10])
        except ValueError:
            raise ParseError(SOURCE, payload.window, f"{payload.name}: bad publication_date {published_on!r}") from None
        published = dt.datetime.combine(day, FEDERAL_REGISTER_ONLINE, tzinfo=EASTERN).astimezone(UTC)
        agencies = [str(a.get("name") or a.get("raw_name") or "").strip() for a in doc.get("agencies") or []
                    if isinstance(a, dict)]
        excerpts = doc.get("excerpts")
        if isinstance(excerpts, list):
            excerpts = " ".join(str(e) for e in excerpts)
        rows.append(_row(settings, str(number), str(doc.get("html_url") or ""), published,
                         html_to_text(str(doc.get("title") or "")), html_to_text(str(excerpts or "")),
                         html_to_text(str(doc.get("abstract") or "")), [str(doc.get("type") or ""), *agencies]))
    return _frame(rows, payload)


# ============================================================================ buckets
@lru_cache(maxsize=64)
def _bucket_patterns(rules: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern], ...]:
    compiled = []
    for bucket, keywords in rules:
        alternatives = []
        for keyword in keywords:
            prefix = keyword.endswith("*")
            words = keyword.rstrip("*").split()
            if not words:
                continue
            alternatives.append(r"\s+".join(re.escape(w) for w in words) + ("" if prefix else r"(?![a-z0-9])"))
        if alternatives:
            compiled.append((bucket, re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)))
    return tuple(compiled)


def tag_buckets(text: str, rules: Mapping[str, list[str]] | tuple) -> list[str]:
    """Buckets whose keywords occur in `text`, in BUCKETS order."""
    if isinstance(rules, Mapping):
        rules = tuple((b, tuple(k.lower() for k in rules[b])) for b in BUCKETS if rules.get(b))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return [bucket for bucket, pattern in _bucket_patterns(rules) if pattern.search(text)]


def _row(settings: _Settings, guid: str, url: str, published: dt.datetime, title: str, summary: str, body: str,
         categories: list[str]) -> dict[str, Any]:
    summary = cap_text(summary, settings.max_body_chars)
    body = cap_text(body, settings.max_body_chars)
    # one comma-separated column: a comma inside a category (FR agency names) becomes ";"
    categories = list(dict.fromkeys(c.replace(",", ";") for c in categories if c))
    # the body is the full text and the summary an excerpt of it: score each word once
    analysed = f"{title}\n{body or summary}"
    polarity, positive, negative = lm_sentiment(analysed)
    buckets = tag_buckets(f"{analysed}\n{summary}\n{' '.join(categories)}", settings.rules)
    published_utc = published.astimezone(UTC).replace(tzinfo=None)
    return {
        "source": settings.feed,
        "guid": guid,
        "url": url,
        "published_at": published_utc,
        "title": title,
        "summary": summary,
        "body": body,
        "categories": ",".join(categories),
        "buckets": ",".join(buckets),
        "sentiment": float(polarity),
        "sentiment_positive": positive,
        "sentiment_negative": negative,
        "as_of_date": published_utc.date(),
    }


def _frame(rows: list[dict[str, Any]], payload: Payload) -> pd.DataFrame:
    """Rows published in the payload's window, one per guid (the first, i.e. newest, listing)."""
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.drop_duplicates("guid", keep="first")
    frame = frame[frame["as_of_date"].map(payload.window.contains)].reset_index(drop=True)
    frame["published_at"] = pd.to_datetime(frame["published_at"])
    frame["sentiment_positive"] = frame["sentiment_positive"].astype("int64")
    frame["sentiment_negative"] = frame["sentiment_negative"].astype("int64")
    return frame[COLUMNS]


# ============================================================================ gaps
def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """Busy feeds (at least one item a week) must publish in a window of 7 days or more. A feed
    that cannot page back only shows its latest items: it is expected in recent windows only."""
    config = load_config(ctx.config_dir)
    if (window.end - window.start).days < 7 and not window.include_history:
        return []
    recent_from = ctx.today - dt.timedelta(days=config.recent_days)
    keys = []
    for feed in config.feeds:
        reaches_back = feed.kind == "federal_register" or feed.paging == "wordpress"
        if feed.busy and (reaches_back or window.last_day >= recent_from):
            keys.append(feed.id)
    return keys


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (TABLE_SPEC,), expected_keys)
