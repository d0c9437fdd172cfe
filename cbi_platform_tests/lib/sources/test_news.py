"""News and policy feeds: parsing of each dialect, hostile inputs, buckets and sentiment, the
Federal Register API, conditional GET and round trips through the simulated world.

No real recorded RSS payload exists (shared/fixtures/PROVENANCE.md, "rss"): the hand-made feeds
below follow the formats described there (WordPress RSS 2.0, Fed RSS, EIA RSS) and Atom 1.0.
"""

import datetime as dt
import json
import math

import duckdb
import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from cbi_platform.lib import ingest
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_news
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import news, news_config
from cbi_platform.lib.sources.base import ParseError, Payload, RetryConfig, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR, TODAY

WINDOW = Window(dt.date(2024, 11, 1), dt.date(2024, 12, 1))
CONFIG = news_config.load_config(CONFIG_DIR)
SPEC = news.spec()

WORDPRESS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel>
  <title>Trade Archives - farm policy news</title>
  <atom:link href="https://farmpolicynews.illinois.edu/category/trade/feed/" rel="self" type="application/rss+xml" />
  <link>https://farmpolicynews.illinois.edu/category/trade/</link>
  <lastBuildDate>Thu, 14 Nov 2024 11:05:12 +0000</lastBuildDate>
  <sy:updatePeriod>hourly</sy:updatePeriod>
  <generator>https://wordpress.org/?v=6.6.2</generator>
  <item>
    <title>China&#8217;s Soybean Buying Slows as Tariff Talk Heats Up</title>
    <link>https://farmpolicynews.illinois.edu/2024/11/chinas-soybean-buying-slows/</link>
    <dc:creator><![CDATA[Keith Good]]></dc:creator>
    <pubDate>Thu, 14 Nov 2024 11:00:00 +0000</pubDate>
    <category><![CDATA[Trade]]></category>
    <category><![CDATA[China]]></category>
    <category><![CDATA[Tariffs, Retaliation]]></category>
    <guid isPermaLink="false">https://farmpolicynews.illinois.edu/?p=41235</guid>
    <description><![CDATA[Reuters reported that China&#8217;s purchases of U.S. soybeans &#8220;slowed&#8221; this week [&#8230;]]]></description>
    <content:encoded><![CDATA[<p>Reuters reported that China&#8217;s purchases of U.S. soybeans &#8220;slowed&#8221; this week.</p>
<script>window.dataLayer = window.dataLayer || []; trackEvent("farm-policy");</script>
<style>.wp-block-embed { margin: 0 }</style>
<iframe src="https://www.youtube.com/embed/xyz" title="video"></iframe>
<p>Farm groups&nbsp;&amp; exporters <b>worry</b> about new tariffs.</p>]]></content:encoded>
    <slash:comments>0</slash:comments>
  </item>
  <item>
    <title>Budget Talks Continue</title>
    <link>https://farmpolicynews.illinois.edu/2024/11/budget-talks-continue/</link>
    <dc:creator><![CDATA[Keith Good]]></dc:creator>
    <pubDate>Wed, 13 Nov 2024 23:30:00 -0600</pubDate>
    <category><![CDATA[Budget]]></category>
    <guid isPermaLink="false">https://farmpolicynews.illinois.edu/?p=41230</guid>
    <description><![CDATA[Lawmakers returned to budget talks.]]></description>
  </item>
</channel></rss>"""  # noqa: E501 (a recorded payload, byte for byte)

FED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>FRB: Press Release</title><link>https://www.federalreserve.gov/feeds/press_all.html</link>
<item>
<title>Federal Reserve issues FOMC statement</title>
<link>https://www.federalreserve.gov/newsevents/pressreleases/monetary20240918a.htm</link>
<guid isPermaLink="true">https://www.federalreserve.gov/newsevents/pressreleases/monetary20240918a.htm</guid>
<description>The Committee decided to lower the target range for the federal funds rate by 1/2 percentage point to 4-3/4 to 5 percent.</description>
<category>Monetary Policy</category>
<pubDate>Wed, 18 Sep 2024 18:00:00 GMT</pubDate>
</item>
</channel></rss>"""  # noqa: E501 (a recorded payload, byte for byte)

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Agency news</title><id>urn:example:agency</id><updated>2024-11-14T22:30:00-05:00</updated>
  <entry>
    <title type="html">Crude oil &amp;amp; gasoline stocks &amp;lt;fall&amp;gt;</title>
    <id>tag:example.gov,2024:press-881</id>
    <link href="https://example.gov/press/881"/>
    <published>2024-11-14T22:30:00-05:00</published>
    <updated>2024-11-15T09:00:00-05:00</updated>
    <summary type="html">&lt;p&gt;Stocks fell.&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;Crude oil inventories fell by 2 million barrels.&lt;/p&gt;</content>
    <category term="Petroleum"/>
  </entry>
</feed>"""


def rss(items: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>https://example.gov</link>{items}</channel></rss>").encode()


def item(title="An item", link="https://example.gov/a", guid="", date="Mon, 04 Nov 2024 15:00:00 GMT", text="") -> str:
    guid_element = f"<guid>{guid}</guid>" if guid else ""
    return (f"<item><title>{title}</title><link>{link}</link>{guid_element}<description>{text}</description>"
            f"<pubDate>{date}</pubDate></item>")


def payload(body: bytes, feed: str = "fpn_trade", fmt: str = news.RSS_FORMAT, window: Window = WINDOW,
            **meta) -> Payload:
    spec = CONFIG.feed(feed)
    return Payload(news.SOURCE, f"{feed}.xml", fmt, body, "GET test", window, {**news_config.payload_meta(CONFIG, spec), **meta})


def parsed(body: bytes, **kwargs) -> pd.DataFrame:
    return news.parse(payload(body, **kwargs))[news.TABLE]


# ============================================================================ dialects
def test_wordpress_feed_with_cdata_entities_and_embeds():
    frame = parsed(WORDPRESS)
    assert list(frame.columns) == news.COLUMNS
    assert len(frame) == 2
    first = frame.set_index("guid").loc["https://farmpolicynews.illinois.edu/?p=41235"]
    assert first["source"] == "fpn_trade"
    assert first["title"] == "China\u2019s Soybean Buying Slows as Tariff Talk Heats Up"
    assert first["url"] == "https://farmpolicynews.illinois.edu/2024/11/chinas-soybean-buying-slows/"
    # entities decoded, the "[…]" truncation marker dropped
    assert first["summary"] == "Reuters reported that China\u2019s purchases of U.S. soybeans \u201cslowed\u201d this week"
    # script, style and iframe removed; &nbsp; and &amp; decoded; paragraphs separated
    assert first["body"] == ("Reuters reported that China\u2019s purchases of U.S. soybeans \u201cslowed\u201d this week. "
                             "Farm groups & exporters worry about new tariffs.")
    assert "dataLayer" not in first["body"] and "margin" not in first["body"] and "youtube" not in first["body"]
    assert first["categories"] == "Trade,China,Tariffs; Retaliation"
    assert first["published_at"] == pd.Timestamp("2024-11-14 11:00:00")
    assert first["as_of_date"] == dt.date(2024, 11, 14)
    assert first["buckets"] == "china,tariff"
    # 23:30 Central on the 13th is 05:30 UTC on the 14th
    second = frame.set_index("guid").loc["https://farmpolicynews.illinois.edu/?p=41230"]
    assert second["published_at"] == pd.Timestamp("2024-11-14 05:30:00") and second["as_of_date"] == dt.date(2024, 11, 14)
    assert second["body"] == "" and second["summary"] == "Lawmakers returned to budget talks."


def test_fed_feed_gmt_dates_and_category():
    frame = parsed(FED, feed="fed_press", window=Window(dt.date(2024, 9, 1), dt.date(2024, 10, 1)))
    row = frame.iloc[0]
    assert row["guid"] == row["url"] == "https://www.federalreserve.gov/newsevents/pressreleases/monetary20240918a.htm"
    assert row["published_at"] == pd.Timestamp("2024-09-18 18:00:00")
    assert row["categories"] == "Monetary Policy"
    assert row["buckets"] == "fed"
    assert "4-3/4 to 5 percent" in row["summary"]


def test_atom_feed_dates_move_to_the_utc_day():
    frame = parsed(ATOM, feed="eia_press")
    row = frame.iloc[0]
    assert row["guid"] == "tag:example.gov,2024:press-881"
    assert row["title"] == "Crude oil & gasoline stocks <fall>"
    assert row["published_at"] == pd.Timestamp("2024-11-15 03:30:00")  # 22:30 EST on the 14th
    assert row["as_of_date"] == dt.date(2024, 11, 15)
    assert row["body"] == "Crude oil inventories fell by 2 million barrels." and row["summary"] == "Stocks fell."
    assert row["buckets"] == "energy" and row["categories"] == "Petroleum"


@pytest.mark.parametrize(
    "date, feed, expected",
    [
        ("Thu, 14 Nov 2024 10:30:00", "eia_press", "2024-11-14 15:30:00"),  # naive: the feed's zone (New York, EST)
        ("Thu, 14 Nov 2024 10:30:00", "fed_press", "2024-11-14 10:30:00"),  # naive, feed zone UTC
        ("Thu, 14 Nov 2024 10:30:00 EST", "fed_press", "2024-11-14 15:30:00"),
        ("Thu, 14 Nov 2024 10:30:00 -0000", "eia_press", "2024-11-14 10:30:00"),  # RFC 5322: -0000 is UTC
        ("Thu, 14 Nov 2024 14:15:00 +0100", "ecb_press", "2024-11-14 13:15:00"),
        ("Thu, 14 Nov 2024 14:15:00 CET", "ecb_press", "2024-11-14 13:15:00"),  # unknown name: the feed zone
        ("Sun, 30 Jun 2024 22:30:00 -0400", "eia_press", "2024-07-01 02:30:00"),
        ("2024-11-14T10:30:00Z", "fed_press", "2024-11-14 10:30:00"),
    ],
)
def test_publication_times_are_converted_to_utc(date, feed, expected):
    window = Window(dt.date(2024, 6, 1), dt.date(2024, 12, 1))
    frame = parsed(rss(item(date=date)), feed=feed, window=window)
    assert frame["published_at"].iloc[0] == pd.Timestamp(expected)
    assert frame["as_of_date"].iloc[0] == pd.Timestamp(expected).date()


# ============================================================================ hostile inputs
@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty body"),
        (b"<rss><channel><title>x</ti", "not a well-formed feed and no items"),
        (b"<rss><channel><title>x</title><item><title>cut", "truncated feed (the document does not end with </rss>"),
        (b"this is not a feed", "not a well-formed feed and no items"),
        (b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Down</h1></body></html>",
         "not an RSS/Atom feed"),
        (b'{"status": "ok"}', "not a well-formed feed and no items"),
    ],
)
def test_malformed_feeds_fail_with_source_and_partition(body, message):
    with pytest.raises(ParseError) as error:
        parsed(body)
    assert message in str(error.value)
    assert str(error.value).startswith("news [2024-11-01_2024-11-30]: fpn_trade.xml")


def test_broken_xml_that_still_yields_items_is_parsed():
    # a raw "&" makes the XML invalid (feedparser flags it as bozo) but the item is intact
    frame = parsed(rss(item(title="Soybeans & tariffs", guid="g-1")))
    assert list(frame["guid"]) == ["g-1"] and frame["title"].iloc[0] == "Soybeans & tariffs"


def test_payload_over_the_size_limit_is_refused():
    body = rss(item(text="x" * 2000))
    with pytest.raises(ParseError, match=r"over the 1000-byte limit"):
        parsed(body, max_payload_bytes=1000)


def test_huge_body_is_capped_at_max_body_chars():
    words = "soybean oil demand " * 3000  # 57,000 characters
    frame = parsed(rss(item(text=words)))
    assert CONFIG.max_body_chars == 20000
    assert 19_800 <= len(frame["summary"].iloc[0]) <= CONFIG.max_body_chars
    capped = parsed(rss(item(text=words)), max_body_chars=500)
    assert len(capped["summary"].iloc[0]) <= 500 and capped["summary"].iloc[0].endswith("demand")


def test_missing_guid_falls_back_to_url_and_duplicates_are_dropped():
    body = rss(item(title="newest listing", guid="dup") + item(title="no guid", link="https://example.gov/only-link")
               + item(title="older listing", guid="dup", date="Sun, 03 Nov 2024 15:00:00 GMT"))
    frame = parsed(body)
    assert sorted(frame["guid"]) == ["dup", "https://example.gov/only-link"]
    assert frame.set_index("guid").loc["dup", "title"] == "newest listing"


def test_items_without_any_identity_get_a_stable_content_hash():
    body = rss("<item><title>Orphan</title><pubDate>Mon, 04 Nov 2024 15:00:00 GMT</pubDate></item>")
    first, again = parsed(body), parsed(body)
    assert first["guid"].iloc[0].startswith("sha256:") and first["guid"].iloc[0] == again["guid"].iloc[0]
    assert first["url"].iloc[0] == ""


def test_undated_items_are_skipped_and_rows_outside_the_window_dropped():
    body = rss("<item><title>No date</title><guid>a</guid></item>"
               + item(guid="in", date="Fri, 29 Nov 2024 12:00:00 GMT")
               + item(guid="after", date="Sun, 01 Dec 2024 00:00:01 GMT")
               + item(guid="before", date="Thu, 31 Oct 2024 23:59:59 GMT"))
    assert list(parsed(body)["guid"]) == ["in"]


def test_payload_without_parse_settings_is_rejected():
    bare = Payload(news.SOURCE, "x.xml", news.RSS_FORMAT, FED, "GET x", WINDOW, {})
    with pytest.raises(ParseError, match="payload meta lacks"):
        news.parse(bare)
    with pytest.raises(ParseError, match="unknown format"):
        news.parse(payload(FED, fmt="csv"))


def test_rows_carry_sentiment_of_title_and_body():
    frame = parsed(rss(item(title="Exports rebound", text="Strength and improvement: a successful, positive week.")))
    row = frame.iloc[0]
    assert row["sentiment"] > 0 and row["sentiment_positive"] >= 3 and row["sentiment_negative"] == 0


def test_bucket_rules_from_config():
    assert set(CONFIG.bucket_rules) == set(news_config.BUCKETS)
    rules = CONFIG.rules_for(CONFIG.feed("fpn_trade"))
    cases = {
        "The FOMC raised the federal funds rate.": ["fed"],
        "Section 301 tariffs on Chinese goods.": ["china", "tariff"],
        "D4 RIN prices and the Renewable Fuel Standard.": ["biofuel"],
        "During the week nothing happened.": [],  # "rin" inside "during" is not a RIN
        "Tariffs rose; crude oil fell; the U.S. dollar firmed; volatility spiked.": ["tariff", "energy", "fx", "volatility"],
        "Board crush margins and NOPA soybean oil stocks.": ["crush"],
        "The People\u2019s Republic bought corn.": ["china"],
    }
    for text, expected in cases.items():
        assert news.tag_buckets(text, rules) == expected, text
    # a feed's own keywords are added to the shared rules
    ustr = CONFIG.rules_for(CONFIG.feed("ustr_press"))
    assert news.tag_buckets("Statement of the Trade Representative", ustr) == ["tariff"]
    assert news.tag_buckets("Statement of the Trade Representative", rules) == []


def test_config_feeds():
    feeds = {feed.id: feed for feed in CONFIG.feeds}
    assert feeds["fed_press"].url == "https://www.federalreserve.gov/feeds/press_all.xml"
    assert feeds["eia_press"].url == "https://www.eia.gov/rss/press_rss.xml"
    assert feeds["federal_register"].kind == "federal_register"
    assert feeds["federal_register"].terms == ("tariff", "section 301", "renewable fuel standard")
    assert {f.id for f in CONFIG.feeds if f.url.startswith("https://farmpolicynews.illinois.edu/category/")} == {
        "fpn_trade", "fpn_ethanol", "fpn_budget", "fpn_regulations", "fpn_immigration"}
    assert sum(f.url.startswith("https://farmdocdaily.illinois.edu/category/") for f in CONFIG.feeds) == 5
    assert all(f.paging == "wordpress" for f in CONFIG.feeds if "illinois.edu" in f.url)
    assert {f.id for f in CONFIG.feeds if f.busy} >= {"fed_press", "fpn_trade", "federal_register"}


def test_expected_keys_follow_window_length_and_feed_depth(tmp_path):
    ctx = FetchContext("sample", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY)
    recent = Window(TODAY - dt.timedelta(days=6), TODAY + dt.timedelta(days=1))
    assert set(news.expected_keys(ctx, recent)) == {f.id for f in CONFIG.feeds if f.busy}
    assert news.expected_keys(ctx, Window(TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=1))) == []
    # years back only feeds that page or query by date can be expected
    old = news.expected_keys(ctx, Window(dt.date(2018, 3, 5), dt.date(2018, 3, 19)))
    assert "fed_press" not in old and {"fpn_trade", "farmdoc_weekly_outlook", "federal_register"} <= set(old)


# ============================================================================ Federal Register
def register_document(number="2024-26812", date="2024-11-14", title="Notice of Action: Section 301 Tariffs",
                      abstract="USTR raises tariffs on products of China.", agencies=None,
                      excerpts='USTR raises <span class="match">tariffs</span> &#8230;'):
    return {"title": title, "type": "Notice", "abstract": abstract, "document_number": number,
            "html_url": f"https://www.federalregister.gov/documents/2024/11/14/{number}/notice",
            "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{date}/pdf/{number}.pdf",
            "publication_date": date, "excerpts": excerpts,
            "agencies": agencies if agencies is not None else [
                {"raw_name": "OFFICE OF THE UNITED STATES TRADE REPRESENTATIVE",
                 "name": "Trade Representative, Office of United States", "id": 491}]}


def register_payload(document: dict) -> Payload:
    return payload(json.dumps(document).encode(), feed="federal_register", fmt=news.FEDERAL_REGISTER_FORMAT)


def test_federal_register_json_is_parsed():
    document = {"count": 2, "description": "Documents matching 'tariff'", "total_pages": 1,
                "results": [register_document(),
                            register_document("2024-26000", "2024-11-01", "Renewable Fuel Standard Program",
                                              None, agencies=[{"name": "Environmental Protection Agency"}],
                                              excerpts=None)]}
    frame = news.parse(register_payload(document))[news.TABLE]
    first = frame.set_index("guid").loc["2024-26812"]
    assert first["url"] == "https://www.federalregister.gov/documents/2024/11/14/2024-26812/notice"
    assert first["published_at"] == pd.Timestamp("2024-11-14 11:00:00")  # 06:00 Eastern (EST)
    assert first["as_of_date"] == dt.date(2024, 11, 14)
    assert first["body"] == "USTR raises tariffs on products of China."
    assert first["summary"] == "USTR raises tariffs \u2026"
    assert first["categories"] == "Notice,Trade Representative; Office of United States"
    assert first["buckets"] == "china,tariff"
    second = frame.set_index("guid").loc["2024-26000"]
    assert second["body"] == second["summary"] == "" and second["buckets"] == "biofuel"
    assert second["published_at"] == pd.Timestamp("2024-11-01 10:00:00")  # EDT


def test_federal_register_empty_and_malformed():
    empty = news.parse(register_payload({"count": 0, "description": "none"}))[news.TABLE]
    assert empty.empty and list(empty.columns) == news.COLUMNS
    for document, message in [
        ({"count": 3}, "no 'results' list"),
        ({"count": 1, "results": [{"title": "x"}]}, "lacks document_number or publication_date"),
        ({"count": 1, "results": [register_document(date="14/11/2024")]}, "bad publication_date"),
    ]:
        with pytest.raises(ParseError, match=message):
            news.parse(register_payload(document))
    with pytest.raises(ParseError, match="HTML/XML instead of JSON"):
        news.parse(payload(b"<html><body>Service Unavailable</body></html>", feed="federal_register",
                           fmt=news.FEDERAL_REGISTER_FORMAT))
    with pytest.raises(SourceError, match="Federal Register error"):
        news.parse(register_payload({"errors": {"conditions": "bad date"}}))


# ============================================================================ the simulated world
@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


class Recorder:
    """Answers from the world's renderer and keeps every request."""

    def __init__(self, world, today):
        self.world, self.today, self.requests = world, today, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return render_news.handle(self.world, request, self.today)


def context(tmp_path, world, today, config_dir=CONFIG_DIR):
    recorder = Recorder(world, today)
    ctx = FetchContext("sample", LandingZone(tmp_path / "landing"), tmp_path / "files", config_dir, today,
                       httpx.MockTransport(recorder), RetryConfig(max_attempts=3, base_delay=0.0))
    return ctx, recorder


def fetch_rows(ctx, window) -> pd.DataFrame:
    payloads = ingest.collect_payloads(SPEC, window, ctx)
    return ingest.parse_window(SPEC, window, payloads)[news.TABLE]


def fed_notation(value: float) -> str:
    whole, quarter = int(value), round((value - int(value)) * 4)
    fraction = ["", "1/4", "1/2", "3/4"][quarter]
    return str(whole) if not fraction else (fraction if whole == 0 else f"{whole}-{fraction}")


def test_fomc_change_appears_as_a_fed_item_with_the_new_target(tmp_path, world):
    changes = [i for i in range(1, world.n_days) if world.fed_upper[i] != world.fed_upper[i - 1] and world.dates[i] <= TODAY]
    index = changes[-1]
    day, lower, upper = world.dates[index], world.fed_lower[index], world.fed_upper[index]
    ctx, _ = context(tmp_path, world, day)
    rows = fetch_rows(ctx, Window(day, day + dt.timedelta(days=1)))
    fed = rows[(rows["source"] == "fed_press") & (rows["title"] == "Federal Reserve issues FOMC statement")]
    assert len(fed) == 1
    row = fed.iloc[0]
    verb = "raise" if upper > world.fed_upper[index - 1] else "lower"
    decision = f"decided to {verb} the target range for the federal funds rate to {fed_notation(lower)} to {fed_notation(upper)} percent"
    assert decision in row["summary"]
    assert row["as_of_date"] == day and "fed" in row["buckets"].split(",")
    assert row["published_at"].hour in (18, 19)  # 14:00 Eastern
    assert row["categories"] == "Monetary Policy"


def test_china_surprises_yield_china_items_with_the_surprise_sign(tmp_path, world):
    published = {}
    for week, surprise in enumerate(world.china_surprise):
        if abs(surprise) > 1.5 and world.china_published[week] <= TODAY:
            published[np.sign(surprise)] = (world.china_published[week], float(surprise))
    for sign, (day, surprise) in published.items():
        ctx, _ = context(tmp_path / str(sign), world, day)
        rows = fetch_rows(ctx, Window(day, day + dt.timedelta(days=1)))
        china = rows[(rows["source"] == "fpn_trade") & rows["buckets"].str.contains("china")]
        assert len(china) == 1, (day, surprise)
        row = china.iloc[0]
        assert np.sign(row["sentiment"]) == sign and row["as_of_date"] == day
        tons = int(round(700_000 * math.exp(0.35 * surprise), -2))
        assert f"{tons:,} metric tons" in row["body"]
        assert row["guid"].startswith("https://farmpolicynews.illinois.edu/?p=")
        assert "Trade" in row["categories"].split(",")
        assert row["body"] and "[" not in row["summary"]
    assert set(published) == {1.0, -1.0}


def test_window_holds_exactly_the_items_published_in_it(tmp_path, world):
    """A window months back: WordPress feeds are paged back to it (and no further); every row
    is published in the window and nothing published there is missing."""
    window = Window(dt.date(2026, 3, 2), dt.date(2026, 3, 16))
    ctx, recorder = context(tmp_path, world, TODAY)
    rows = fetch_rows(ctx, window)
    assert rows["as_of_date"].map(window.contains).all()
    for feed_id in ("fpn_trade", "farmdoc_weekly_outlook"):
        expected = {item.guid for item in render_news.published_items(world, feed_id, TODAY)
                    if window.start <= item.published.date() < window.end}
        assert set(rows.loc[rows["source"] == feed_id, "guid"]) == expected and expected, feed_id
    trade_pages = [int(r.url.params.get("paged", "1")) for r in recorder.requests if r.url.path == "/category/trade/feed/"]
    assert trade_pages == list(range(1, len(trade_pages) + 1)) and 3 < len(trade_pages) < 40
    # feeds that cannot page only show their latest items: nothing from March
    assert not (rows["source"] == "fed_press").any()
    # the Federal Register is queried by date and term: its rows are exactly the matching documents
    documents = {d["document_number"] for d in render_news.catalogue(world).documents
                 if "2026-03-02" <= d["publication_date"] <= "2026-03-15"
                 and any(render_news._matches(d, t) for t in CONFIG.feed("federal_register").terms)}
    assert set(rows.loc[rows["source"] == "federal_register", "guid"]) == documents and documents


def test_all_feeds_round_trip_and_busy_feeds_publish_every_week(tmp_path, world):
    window = Window(TODAY - dt.timedelta(days=13), TODAY + dt.timedelta(days=1))
    ctx, _ = context(tmp_path, world, TODAY)
    rows = fetch_rows(ctx, window)
    publishing = {f.id for f in CONFIG.feeds if f.kind == "rss" and any(
        window.contains(i.published.date()) for i in render_news.published_items(world, f.id, TODAY))}
    assert set(rows["source"]) == publishing | {"federal_register"} and len(publishing) >= 12
    assert set(news.expected_keys(ctx, window)) <= set(rows["source"])
    assert not rows.duplicated(["source", "guid"]).any()
    # BEA items carry no guid: the link stands in
    bea = rows[rows["source"] == "bea_news"]
    assert (bea["guid"] == bea["url"]).all() and bea["url"].str.startswith("https://www.bea.gov/news/").all()
    # EIA weekly petroleum: 10:30 Eastern on Wednesdays, energy bucket
    wpsr = rows[rows["title"].str.startswith("Weekly Petroleum Status Report")]
    assert len(wpsr) == 2 and all(t.hour == 15 and t.weekday() == 2 for t in wpsr["published_at"])
    assert wpsr["buckets"].str.contains("energy").all()
    # ECB press releases are published in Frankfurt business hours
    ecb = rows[rows["source"] == "ecb_press"]["published_at"]
    assert len(ecb) and all(7 <= t.hour <= 15 for t in ecb)


def test_an_article_in_two_category_feeds_is_kept_once_per_feed(tmp_path, world):
    event = render_news.rfs_events(world)[-1]
    for candidate in reversed(render_news.rfs_events(world)):
        if candidate["day"] < TODAY - dt.timedelta(days=3):
            event = candidate
            break
    day = render_news._next_session(world, event["day"])
    ctx, _ = context(tmp_path, world, day)
    rows = fetch_rows(ctx, Window(day, day + dt.timedelta(days=1)))
    rfs = rows[rows["title"].str.contains("Biomass-Based Diesel Volumes")]
    assert sorted(rfs["source"]) == ["fpn_ethanol", "fpn_regulations"]
    assert rfs["guid"].nunique() == 1 and rfs["url"].nunique() == 1
    assert f"{event['volume']:.2f} billion gallons" in rfs["body"].iloc[0]
    assert np.sign(rfs["sentiment"].iloc[0]) == (1 if event["change"] >= 0 else -1)


def test_federal_register_paging(tmp_path, world):
    """A smaller page size forces several pages per query: next_page_url is followed until
    total_pages, and the union is exactly the documents of the range."""
    config = yaml.safe_load((CONFIG_DIR / "sources" / "feeds.yaml").read_text())
    config["defaults"]["federal_register"]["per_page"] = 2
    config["feeds"] = [f for f in config["feeds"] if f["kind"] == "federal_register"]
    (tmp_path / "config" / "sources").mkdir(parents=True)
    (tmp_path / "config" / "sources" / "feeds.yaml").write_text(yaml.safe_dump(config))
    ctx, recorder = context(tmp_path, world, TODAY, config_dir=tmp_path / "config")
    window = Window(dt.date(2026, 5, 1), dt.date(2026, 7, 1))
    payloads = news.fetch(window, ctx)
    tariff_pages = [p for p in payloads if ".tariff." in p.name]
    first = json.loads(tariff_pages[0].body)
    assert first["total_pages"] == len(tariff_pages) > 2
    assert [int(r.url.params["page"]) for r in recorder.requests if r.url.params["conditions[term]"] == "tariff"] == \
        list(range(1, len(tariff_pages) + 1))
    assert all(r.url.params["conditions[publication_date][gte]"] == "2026-05-01" and
               r.url.params["conditions[publication_date][lte]"] == "2026-06-30" and
               r.url.params["order"] == "newest" and r.url.params["per_page"] == "2" for r in recorder.requests)
    rows = ingest.parse_window(SPEC, window, payloads)[news.TABLE]
    expected = {d["document_number"] for d in render_news.catalogue(world).documents
                if "2026-05-01" <= d["publication_date"] <= "2026-06-30" and render_news._matches(d, "tariff")}
    tariff_rows = pd.concat([news.parse(p)[news.TABLE] for p in tariff_pages])
    assert set(tariff_rows["guid"]) == expected and len(tariff_rows) == first["count"] == len(expected)
    assert rows["as_of_date"].map(window.contains).all()


def test_conditional_get_poll(tmp_path, world):
    ctx, recorder = context(tmp_path, world, TODAY)
    first = news.poll(ctx, "fpn_trade")
    assert first.status == 200 and first.payload is not None and first.modified
    assert set(first.validators) == {"etag", "last_modified"}
    assert first.payload.window == Window(TODAY, TODAY + dt.timedelta(days=1))
    again = news.poll(ctx, "fpn_trade", first.validators)
    assert again.status == 304 and again.payload is None and again.validators == first.validators
    assert recorder.requests[-1].headers["If-None-Match"] == first.validators["etag"]
    # Last-Modified alone is enough
    since = news.poll(ctx, "fpn_trade", {"last_modified": first.validators["last_modified"]})
    assert since.status == 304 and since.payload is None
    # a day with a newer item: 200 and new validators
    newest = render_news.published_items(world, "fpn_trade", TODAY)[0].published.date()
    later = next(item.published.date() for item in reversed(render_news.catalogue(world).items["fpn_trade"])
                 if item.published.date() > newest)
    later_ctx, _ = context(tmp_path / "later", world, later)
    changed = news.poll(later_ctx, "fpn_trade", first.validators)
    assert changed.status == 200 and changed.payload is not None and changed.validators["etag"] != first.validators["etag"]
    rows = news.parse(changed.payload)[news.TABLE]
    assert list(rows["as_of_date"]) == [later] * len(rows) and len(rows) >= 1
    with pytest.raises(ValueError, match="not a feed"):
        news.poll(ctx, "federal_register")
    # an If-Modified-Since older than the newest item: 200
    stale = news.poll(ctx, "fpn_trade", {"last_modified": "Mon, 02 Nov 2026 00:00:00 GMT"})
    assert stale.status == 200 and stale.validators == first.validators


def test_poll_drops_old_validators_when_the_server_sends_none(tmp_path):
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=FED, headers={"Content-Type": "text/xml"})

    ctx = FetchContext("sample", LandingZone(tmp_path), tmp_path, CONFIG_DIR, dt.date(2024, 9, 18),
                       httpx.MockTransport(server), RetryConfig(max_attempts=1, base_delay=0.0))
    result = news.poll(ctx, "fed_press", {"etag": '"old"', "last_modified": "Tue, 17 Sep 2024 18:00:00 GMT"})
    assert result.status == 200 and result.validators == {}
    assert list(news.parse(result.payload)[news.TABLE]["as_of_date"]) == [dt.date(2024, 9, 18)]


def test_fetch_sends_validators_of_the_landed_copy_and_reuses_it_on_304(tmp_path, world):
    window = Window(TODAY - dt.timedelta(days=6), TODAY + dt.timedelta(days=1))
    ctx, recorder = context(tmp_path, world, TODAY)
    first = fetch_rows(ctx, window)
    assert not any("If-None-Match" in r.headers for r in recorder.requests)
    recorder.requests.clear()
    payloads = ingest.collect_payloads(SPEC, window, ctx)
    fed_request = next(r for r in recorder.requests if r.url.host == "www.federalreserve.gov")
    assert fed_request.headers["If-None-Match"].startswith('"')
    fed_payload = next(p for p in payloads if p.name == "fed_press.xml")
    assert fed_payload.meta["status"] == 304 and fed_payload.meta["not_modified"] is True
    second = ingest.parse_window(SPEC, window, payloads)[news.TABLE]
    key = ["source", "guid"]
    pd.testing.assert_frame_equal(first.sort_values(key).reset_index(drop=True),
                                  second.sort_values(key).reset_index(drop=True))


def test_renderer_serves_only_published_items_and_404s(world):
    day = dt.date(2026, 3, 10)
    response = render_news.handle(world, httpx.Request("GET", "https://www.federalreserve.gov/feeds/press_all.xml"), day)
    window = Window(dt.date(2025, 1, 1), day + dt.timedelta(days=1))
    frame = news.parse(payload(response.content, feed="fed_press", window=window))[news.TABLE]
    assert len(frame) == 20 and frame["as_of_date"].max() <= day
    assert response.headers["Last-Modified"] == render_news.email.utils.format_datetime(
        frame["published_at"].max().to_pydatetime().replace(tzinfo=dt.timezone.utc), usegmt=True)
    missing = render_news.handle(world, httpx.Request("GET", "https://www.federalreserve.gov/feeds/nothing.xml"), day)
    assert missing.status_code == 404
    past_end = render_news.handle(world, httpx.Request(
        "GET", "https://farmdocdaily.illinois.edu/category/areas/biofuels/rins/feed/?paged=9999"), day)
    assert past_end.status_code == 404
    with pytest.raises(ParseError, match="not an RSS/Atom feed"):
        news.parse(payload(missing.content, feed="fed_press"))


def test_rendering_is_deterministic(world):
    request = httpx.Request("GET", "https://farmpolicynews.illinois.edu/category/trade/feed/?paged=3")
    register = httpx.Request("GET", "https://www.federalregister.gov/api/v1/documents.json?conditions%5Bterm%5D="
                                    "section+301&conditions%5Bpublication_date%5D%5Bgte%5D=2020-01-01&per_page=50")
    before = (render_news.handle(world, request, TODAY).content, render_news.handle(world, register, TODAY).content)
    render_news.catalogue.cache_clear()
    render_news.tariff_events.cache_clear()
    render_news.rfs_events.cache_clear()
    after = (render_news.handle(world, request, TODAY).content, render_news.handle(world, register, TODAY).content)
    assert before == after
    assert b"<content:encoded><![CDATA[" in before[0] and b'isPermaLink="false"' in before[0]
    assert json.loads(before[1])["count"] > 10


def test_files_mode_reads_saved_feeds(tmp_path):
    ctx = FetchContext("files", LandingZone(tmp_path / "landing"), tmp_path / "files", CONFIG_DIR, TODAY)
    assert news.fetch(WINDOW, ctx) == []  # no feed saved: an empty table, not an error
    (tmp_path / "files" / "news").mkdir(parents=True)
    (tmp_path / "files" / "news" / "fpn_trade.xml").write_bytes(WORDPRESS)
    (tmp_path / "files" / "news" / "federal_register.json").write_text(json.dumps({"count": 1, "results": [register_document()]}))
    payloads = news.fetch(WINDOW, ctx)
    assert [(p.name, p.format) for p in payloads] == [("fpn_trade.xml", news.RSS_FORMAT),
                                                      ("federal_register.json", news.FEDERAL_REGISTER_FORMAT)]
    rows = ingest.parse_window(SPEC, WINDOW, payloads)[news.TABLE]
    assert sorted(rows["guid"]) == ["2024-26812", "https://farmpolicynews.illinois.edu/?p=41230",
                                    "https://farmpolicynews.illinois.edu/?p=41235"]


def test_parsed_rows_fit_the_table(tmp_path):
    conn = duckdb.connect(str(tmp_path / "news.duckdb"))
    for name in ("001_schemas.sql", "007_news.sql", "007_news.sql"):  # applying twice is harmless
        conn.execute((SQL_DIR / "schema" / name).read_text())
    columns = [row[0] for row in conn.execute("DESCRIBE raw.news_items").fetchall()]
    assert columns == news.COLUMNS + ["ingested_at"]
    frame = parsed(WORDPRESS).assign(ingested_at=pd.Timestamp("2024-11-15 00:00:00"))
    conn.register("frame", frame)
    conn.execute("INSERT INTO raw.news_items SELECT * FROM frame")
    stored = conn.execute("SELECT source, guid, published_at, as_of_date, sentiment_negative FROM raw.news_items "
                          "ORDER BY published_at DESC").fetchall()
    assert stored[0][:4] == ("fpn_trade", "https://farmpolicynews.illinois.edu/?p=41235",
                             dt.datetime(2024, 11, 14, 11, 0), dt.date(2024, 11, 14))
    with pytest.raises(duckdb.ConstraintException):
        conn.execute("INSERT INTO raw.news_items SELECT * FROM frame")
