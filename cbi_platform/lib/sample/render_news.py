"""News and policy feeds of the simulated world, in each publisher's wire format.

Every feed in config/sources/feeds.yaml is served at its real URL:
- WordPress RSS 2.0 (farmpolicynews / farmdocdaily category feeds): content:encoded CDATA with
  full HTML (and the odd tweet or video embed), dc:creator, several categories, a
  `guid isPermaLink="false"` of the form `?p=NNNN`, `+0000` pubDates, `&#8217;`-style entities,
  a `[&#8230;]` excerpt marker, 10 items a page and `?paged=N` for older pages (404 past the end);
- Federal Reserve press RSS (GMT pubDates, one category per item, permalink guids), EIA press
  RSS (Eastern-time offsets), and plain RSS 2.0 for SEC, ECB (Frankfurt time), BEA (no guid:
  readers fall back to the link), CFTC and USTR;
- the Federal Register documents API (JSON: count, total_pages, next_page_url, results[]),
  searched by term and publication-date range, newest first, paged.

Items are tied to the world's latent state:
- FOMC meetings (`world.fed_upper`): "Federal Reserve issues FOMC statement" at 14:00 Eastern on
  the meeting day, raising, lowering or keeping the target range, with the new range in the text;
- China export sales (`world.china_surprise`): a Farm Policy News trade item on
  `world.china_published[w]` for every week with |surprise| > 1.5, worded positively for a
  positive surprise and negatively for a negative one (so LM sentiment has the surprise's sign);
- D4 RIN prices (`world.rin_log_d4`): a farmdoc daily RINs item on `world.rin_published[w]` when
  the weekly log change exceeds RIN_MOVE;
- tariff / Section 301 actions at seeded Poisson dates: a USTR press release, a Federal Register
  notice a few business days later and a Farm Policy News item the next business day; RFS rules
  likewise (Federal Register rule, Farm Policy News ethanol and regulations items);
- EIA weekly petroleum items on Wednesdays, crude stocks moving against the week's CL return;
  farmdoc weekly outlooks on Mondays with the previous week's soybean oil (ZL) move;
- routine items (Poisson, per feed) from each publisher's usual repertoire.

Everything is generated once per world for its whole calendar (so an item never changes with
`today`); a request sees the items published on or before `today`, newest first, the most recent
`recent_items` per page like a real feed. Conditional GET: each feed page has an ETag and a
Last-Modified derived from its newest item; a matching If-None-Match, or an If-Modified-Since
not older than the newest item, gets `304 Not Modified` with no body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import math
import os
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from cbi_platform.lib import calendar
from cbi_platform.lib.sample.world import FOMC_MEETINGS, World
from cbi_platform.lib.settings import PROJECT_ROOT
from cbi_platform.lib.sources.news_config import FeedSpec, NewsConfig, load_config

RENDER_SEED = 0x4E455753  # "NEWS"
UTC = dt.timezone.utc
EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
FRANKFURT = ZoneInfo("Europe/Berlin")
CHINA_THRESHOLD = 1.5  # |z| of a weekly export-sales surprise that makes news
RIN_MOVE = 0.10  # weekly log change of the D4 RIN price that makes news
TARIFF_EVENTS_PER_YEAR = 5.0
RFS_EVENTS_PER_YEAR = 2.0
WORDPRESS_PAGE = 10
FEDERAL_REGISTER_MAX_PER_PAGE = 1000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


# ============================================================================ model
@dataclass
class Draft:
    """One story before a publisher gives it an id: plain-text paragraphs, UTC time."""

    key: str
    published: dt.datetime
    title: str
    paragraphs: list[str]
    categories: list[str]
    slug: str
    author: str = ""
    embed: str = ""  # raw HTML (tweet / video embed) appended to WordPress content
    extra: dict = field(default_factory=dict)  # Federal Register: type, agencies


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    draft: Draft

    @property
    def published(self) -> dt.datetime:
        return self.draft.published


@dataclass(frozen=True)
class Site:
    dialect: str  # wordpress | fed | eia | generic | federal_register
    title: str
    home: str
    zone: dt.tzinfo  # the publisher's local time (business hours, pubDate offsets)
    date_style: str  # utc (+0000), gmt, local (numeric offset), none
    content_type: str = "application/rss+xml; charset=UTF-8"
    guid: bool = True


SITES = {
    "farmpolicynews.illinois.edu": Site("wordpress", "farm policy news", "https://farmpolicynews.illinois.edu",
                                        CENTRAL, "utc"),
    "farmdocdaily.illinois.edu": Site("wordpress", "farmdoc daily", "https://farmdocdaily.illinois.edu", CENTRAL, "utc"),
    "www.federalreserve.gov": Site("fed", "FRB: Press Release", "https://www.federalreserve.gov", EASTERN, "gmt",
                                   "text/xml; charset=utf-8"),
    "www.eia.gov": Site("eia", "EIA Press Releases", "https://www.eia.gov", EASTERN, "local",
                        "application/xml; charset=utf-8"),
    "www.sec.gov": Site("generic", "SEC.gov | Press Releases", "https://www.sec.gov", EASTERN, "local"),
    "www.ecb.europa.eu": Site("generic", "European Central Bank: Press releases", "https://www.ecb.europa.eu",
                              FRANKFURT, "local", "application/rss+xml; charset=UTF-8"),
    "apps.bea.gov": Site("generic", "BEA News Releases", "https://www.bea.gov", EASTERN, "local",
                         "application/rss+xml; charset=UTF-8", guid=False),
    "www.cftc.gov": Site("generic", "CFTC General Press Releases", "https://www.cftc.gov", EASTERN, "local"),
    "ustr.gov": Site("generic", "United States Trade Representative: Press Releases", "https://ustr.gov", EASTERN,
                     "utc"),
    "www.federalregister.gov": Site("federal_register", "Federal Register", "https://www.federalregister.gov",
                                    EASTERN, "none", "application/json; charset=utf-8"),
}


def _config_dir() -> Path:
    return Path(os.environ.get("CBI_CONFIG_DIR", "").strip() or PROJECT_ROOT / "config")


def _rng(world: World, name: str) -> np.random.Generator:
    return np.random.default_rng([world.seed, RENDER_SEED, zlib.crc32(name.encode())])


def _at(day: dt.date, hour: int, minute: int, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(UTC)


def _slug(text: str) -> str:
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:80]


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _next_session(world: World, day: dt.date, offset: int = 1) -> dt.date:
    index = calendar.index_of(day) + offset
    return world.dates[min(index, world.n_days - 1)]


def _fed_percent(value: float) -> str:
    """The Fed's notation: 4.25 -> "4-1/4", 0.5 -> "1/2", 3 -> "3"."""
    whole = int(math.floor(value + 1e-9))
    fraction = {0: "", 25: "1/4", 50: "1/2", 75: "3/4"}[int(round((value - whole) * 100))]
    if not fraction:
        return str(whole)
    return fraction if whole == 0 else f"{whole}-{fraction}"


def target_range_text(lower: float, upper: float) -> str:
    return f"{_fed_percent(lower)} to {_fed_percent(upper)} percent"


# ============================================================================ world events
def fomc_decisions(world: World) -> list[tuple[dt.date, float, float, float]]:
    """(meeting day, lower, upper, previous upper) for every FOMC meeting of the world."""
    meetings = set()
    for year in range(calendar.CALENDAR_START.year, calendar.CALENDAR_END.year + 1):
        for month, day in FOMC_MEETINGS:
            index = calendar.index_of(dt.date(year, month, day))
            if 0 < index < world.n_days:
                meetings.add(index)
    return [(world.dates[i], float(world.fed_lower[i]), float(world.fed_upper[i]), float(world.fed_upper[i - 1]))
            for i in sorted(meetings)]


def _poisson_days(world: World, rng: np.random.Generator, per_year: float) -> list[int]:
    return [int(i) for i in np.nonzero(rng.random(world.n_days) < per_year / 252.0)[0] if i > 0]


@lru_cache(maxsize=4)
def tariff_events(world: World) -> list[dict]:
    """Seeded trade actions: a Section 301 tariff increase, an exclusion extension or a new
    tariff proclamation, each with a product list and a rate."""
    rng = _rng(world, "tariff_events")
    kinds = ("section_301_increase", "exclusion_extension", "tariff_proclamation")
    products = ("soybean oil and other vegetable oils", "steel and aluminum products", "semiconductors",
                "electric vehicles and batteries", "agricultural machinery", "fertilizers", "solar cells")
    events = []
    for index in _poisson_days(world, rng, TARIFF_EVENTS_PER_YEAR):
        events.append({
            "day": world.dates[index],
            "kind": _pick(rng, kinds),
            "product": _pick(rng, products),
            "rate": int(_pick(rng, (10, 15, 25, 50, 100))),
            "country": "China" if rng.random() < 0.7 else _pick(rng, ("Brazil", "Vietnam", "Indonesia", "Argentina")),
            "lag": int(rng.integers(2, 6)),
        })
    return events


@lru_cache(maxsize=4)
def rfs_events(world: World) -> list[dict]:
    """Seeded Renewable Fuel Standard rules: proposed or final volumes, biomass-based diesel up
    or down from the previous rule."""
    rng = _rng(world, "rfs_events")
    events, volume = [], 1.0
    for index in _poisson_days(world, rng, RFS_EVENTS_PER_YEAR):
        change = float(np.round(rng.normal(0.12, 0.25), 2))
        volume = max(0.5, volume + change)
        day = world.dates[index]
        events.append({"day": day, "stage": _pick(rng, ("Proposed Rule", "Rule")), "year": day.year + 1,
                       "volume": round(volume, 2), "change": change})
    return events


# ============================================================================ stories
Story = Callable[[World, np.random.Generator], list[Draft]]


def _fomc_statement(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for day, lower, upper, previous in fomc_decisions(world):
        target = target_range_text(lower, upper)
        if upper > previous:
            decision = f"decided to raise the target range for the federal funds rate to {target}"
            view = "Recent indicators suggest that economic activity has been expanding at a solid pace and job gains have remained strong."
        elif upper < previous:
            decision = f"decided to lower the target range for the federal funds rate to {target}"
            view = "Recent indicators suggest that economic activity has slowed and that the labor market has softened."
        else:
            decision = f"decided to maintain the target range for the federal funds rate at {target}"
            view = "Recent indicators suggest that economic activity has continued to expand at a moderate pace."
        stamp = day.strftime("%Y%m%d")
        drafts.append(Draft(
            key=f"fomc-{stamp}", published=_at(day, 14, 0, EASTERN), title="Federal Reserve issues FOMC statement",
            paragraphs=[
                view,
                "The Committee seeks to achieve maximum employment and inflation at the rate of 2 percent over the longer run.",
                f"In support of its goals, the Committee {decision}.",
                "In considering additional adjustments to the target range, the Committee will carefully assess incoming data, the evolving outlook, and the balance of risks.",
            ],
            categories=["Monetary Policy"], slug=f"monetary{stamp}a"))
        minutes_day = _next_session(world, day + dt.timedelta(days=21), 0)
        drafts.append(Draft(
            key=f"minutes-{stamp}", published=_at(minutes_day, 14, 0, EASTERN),
            title=f"Minutes of the Federal Open Market Committee, {day:%B} {day.day}, {day.year}",
            paragraphs=[f"The Federal Reserve Board and the Federal Open Market Committee on {WEEKDAYS[minutes_day.weekday()]} "
                        f"released the attached minutes of the Committee meeting held on {day:%B} {day.day}, {day.year}. "
                        f"At that meeting the Committee set the target range for the federal funds rate at {target}."],
            categories=["Monetary Policy"], slug=f"monetary{minutes_day:%Y%m%d}b"))
    return drafts


def china_sales_tons(surprise: float) -> int:
    return int(round(700_000 * math.exp(0.35 * surprise), -2))


def _china_export_sales(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for week, surprise in enumerate(world.china_surprise):
        if abs(surprise) <= CHINA_THRESHOLD:
            continue
        published = world.china_published[week]
        if not calendar.CALENDAR_START <= published <= calendar.CALENDAR_END:
            continue
        week_ending = world.china_week_ending[week]
        tons = china_sales_tons(float(surprise))
        ending = f"{week_ending:%B} {week_ending.day}"
        if surprise > 0:
            title = "China's Soybean Purchases Rebound to Highest Level in Months"
            paragraphs = [
                f"USDA's weekly export sales report showed net soybean sales to China of {tons:,} metric tons for the week ending {ending}, "
                "well above trade expectations and the strongest total in months.",
                "The report was a positive surprise for the market: analysts said the gain reflects improved demand from Chinese crushers, "
                "and the strength of buying boosted optimism about the export outlook.",
                "Market participants described the progress as an encouraging opportunity for U.S. farmers, with better prospects for soybean prices.",
            ]
        else:
            title = "China's Soybean Purchases Drop as Weak Demand Disappoints"
            paragraphs = [
                f"USDA's weekly export sales report showed net soybean sales to China of only {tons:,} metric tons for the week ending {ending}, "
                "well below trade expectations.",
                "The disappointing report pointed to weak demand from Chinese crushers, and cancellations added to the decline; "
                "analysts voiced concern about losses in export market share.",
                "Market participants said the weakness and the shortfall in purchases were adverse for the export outlook.",
            ]
        drafts.append(Draft(
            key=f"china-{week}", published=_at(published, 12, 30, CENTRAL), title=title, paragraphs=paragraphs,
            categories=["Trade", "China", "Exports"], slug=_slug(title) + f"-{published:%Y%m%d}", author="Keith Good",
            embed=_tweet(rng, "USDA export sales: China", published) if rng.random() < 0.3 else ""))
    return drafts


def _tweet(rng: np.random.Generator, text: str, day: dt.date) -> str:
    status = int(rng.integers(10**17, 10**18))
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{escape(text)}</p>&mdash; Farm Policy News '
            f'(@FarmPolicyNews) <a href="https://twitter.com/FarmPolicyNews/status/{status}">{day:%B} {day.day}, {day.year}</a>'
            '</blockquote> <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
            '<script>window.twttr = window.twttr || {}; twttr.ready(function () { twttr.widgets.load(); });</script>')


def _rin_market(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    d4 = world.rin_log_d4
    for week in range(1, len(d4)):
        move = float(d4[week] - d4[week - 1])
        published = world.rin_published[week]
        if abs(move) <= RIN_MOVE or not calendar.CALENDAR_START <= published <= calendar.CALENDAR_END:
            continue
        price, percent = math.exp(d4[week]), abs(math.expm1(move)) * 100
        if move > 0:
            title = f"D4 RIN Prices Rebound {percent:.0f} Percent"
            paragraphs = [
                f"Biodiesel (D4) RIN prices rose {percent:.0f} percent over the past week to ${price:.2f}, the highest level in several weeks.",
                "The rebound reflects improved demand for renewable fuel credits and stronger expectations for biomass-based diesel blending, "
                "a positive development for biodiesel and renewable diesel producers.",
                "Higher RIN values boost the margins of plants that crush soybeans for oil, with better prospects for soybean oil demand.",
            ]
        else:
            title = f"D4 RIN Prices Drop {percent:.0f} Percent"
            paragraphs = [
                f"Biodiesel (D4) RIN prices declined {percent:.0f} percent over the past week to ${price:.2f}.",
                "The drop reflects weak demand for renewable fuel credits and concern about an oversupplied credit market, "
                "an adverse development for biodiesel and renewable diesel producers.",
                "Lower RIN values weigh on the margins of plants that crush soybeans for oil, and analysts see difficult conditions ahead.",
            ]
        drafts.append(Draft(
            key=f"rin-{week}", published=_at(published, 10, 0, CENTRAL), title=title, paragraphs=paragraphs,
            categories=["Biofuels", "RINs", "Energy"], slug=_slug(title) + f"-{published:%Y%m%d}",
            author=_pick(rng, ("Scott Irwin", "Nick Paulson")),
            embed='<iframe width="560" height="315" src="https://www.youtube.com/embed/farmdoc" title="farmdoc webinar" '
                  'frameborder="0" allowfullscreen></iframe>' if rng.random() < 0.2 else ""))
    return drafts


def _tariff_paragraphs(event: dict) -> tuple[str, list[str]]:
    product, country, rate = event["product"], event["country"], event["rate"]
    if event["kind"] == "section_301_increase":
        title = f"USTR Announces Section 301 Tariff Increase on {product.title()} From {country}"
        text = [f"The Office of the United States Trade Representative announced an increase of the Section 301 tariffs on "
                f"{product} from {country} to {rate} percent.",
                "The action follows the investigation of unfair trade practices; the new tariffs take effect in 30 days."]
    elif event["kind"] == "exclusion_extension":
        title = f"USTR Extends Section 301 Tariff Exclusions for {product.title()}"
        text = [f"The Office of the United States Trade Representative extended exclusions from the Section 301 tariffs on "
                f"{product} from {country} for another year.",
                "The extension gives importers relief while the exclusions are reviewed."]
    else:
        title = f"President Proclaims {rate} Percent Tariffs on Imports of {product.title()}"
        text = [f"A presidential proclamation imposes tariffs of {rate} percent on imports of {product} from {country}.",
                "The tariffs respond to trade practices that burden U.S. commerce."]
    return title, text


def _tariff_action(world: World, rng: np.random.Generator) -> list[Draft]:
    """Each trade action: a USTR press release on the day (ustr.gov) and a Federal Register
    document `lag` sessions later (www.federalregister.gov reads `extra`)."""
    drafts = []
    for number, event in enumerate(tariff_events(world)):
        title, text = _tariff_paragraphs(event)
        day = event["day"]
        drafts.append(Draft(key=f"tariff-{number}", published=_at(day, 16, 30, EASTERN), title=title, paragraphs=text,
                            categories=["Press Releases", "Section 301"], slug=_slug(title),
                            extra={"register_day": _next_session(world, day, event["lag"]),
                                   "type": "Presidential Document" if event["kind"] == "tariff_proclamation" else "Notice",
                                   "agencies": ("eop",) if event["kind"] == "tariff_proclamation" else ("ustr",)}))
    return drafts


def _tariff_news(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for number, event in enumerate(tariff_events(world)):
        day = _next_session(world, event["day"])
        headline, _ = _tariff_paragraphs(event)
        if event["kind"] == "exclusion_extension":
            title = "Trade Officials Extend Tariff Exclusions; Importers Welcome Relief"
            paragraphs = [f"{headline}. Importers welcomed the extension as a positive step that benefits supply chains.",
                          "Farm groups said stable trade rules would improve export opportunities."]
        else:
            title = f"New Tariffs on {event['product'].title()} Raise Retaliation Concerns for Agriculture"
            paragraphs = [f"{headline}. Farm groups voiced concern that {event['country']} could answer with retaliatory tariffs "
                          "on U.S. soybeans.",
                          "Analysts warned that a new trade dispute would be adverse for exports, recalling the losses of past retaliation."]
        drafts.append(Draft(key=f"tariff-news-{number}", published=_at(day, 6, 30, CENTRAL), title=title,
                            paragraphs=paragraphs, categories=["Trade", "Tariffs"], slug=_slug(title) + f"-{day:%Y%m%d}",
                            author="Keith Good"))
    return drafts


def _rfs_text(event: dict) -> tuple[str, str]:
    stage = "Proposed" if event["stage"] == "Proposed Rule" else "Final"
    title = (f"Renewable Fuel Standard (RFS) Program: Standards for {event['year']} and Biomass-Based Diesel Volume "
             f"({stage})")
    abstract = (f"The Environmental Protection Agency is {'proposing' if stage == 'Proposed' else 'finalizing'} the "
                f"applicable volume requirements under the Renewable Fuel Standard program for {event['year']}, "
                f"including a biomass-based diesel volume of {event['volume']:.2f} billion gallons.")
    return title, abstract


def _rfs_rule(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for number, event in enumerate(rfs_events(world)):
        title, abstract = _rfs_text(event)
        drafts.append(Draft(key=f"rfs-{number}", published=_at(event["day"], 6, 0, EASTERN), title=title,
                            paragraphs=[abstract], categories=[], slug=_slug(title),
                            extra={"register_day": event["day"], "type": event["stage"], "agencies": ("epa",)}))
    return drafts


def _rfs_news(world: World, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for number, event in enumerate(rfs_events(world)):
        day = _next_session(world, event["day"])
        stage = "Proposes" if event["stage"] == "Proposed Rule" else "Finalizes"
        if event["change"] >= 0:
            title = f"EPA {stage} Higher Biomass-Based Diesel Volumes; Biofuel Groups Welcome Boost"
            tone = "Biofuel groups called the higher volumes a positive signal that would boost demand for soybean oil."
        else:
            title = f"EPA {stage} Lower Biomass-Based Diesel Volumes; Biofuel Groups Disappointed"
            tone = "Biofuel groups called the lower volumes a disappointing setback and warned of weak demand for soybean oil."
        drafts.append(Draft(key=f"rfs-news-{number}", published=_at(day, 6, 45, CENTRAL), title=title,
                            paragraphs=[f"The Environmental Protection Agency released its Renewable Fuel Standard volumes for "
                                        f"{event['year']}, with a biomass-based diesel requirement of {event['volume']:.2f} billion gallons.",
                                        tone],
                            categories=["Biofuels", "Ethanol", "Regulations", "RFS"], slug=_slug(title) + f"-{day:%Y%m%d}",
                            author="Keith Good"))
    return drafts


def _eia_weekly_petroleum(world: World, rng: np.random.Generator) -> list[Draft]:
    """Weekly Petroleum Status Report on Wednesdays: crude stocks build when the week's CL return
    was negative (supply looser), draw when it was positive."""
    cl = world.log_spot[:, world.root_index["CL"]]
    drafts = []
    for week_start in world.week_starts:
        day = week_start + dt.timedelta(days=2)
        if not calendar.CALENDAR_START + dt.timedelta(days=14) <= day <= calendar.CALENDAR_END:
            continue
        day = _next_session(world, day, 0)
        now, before = calendar.index_of(day) - 1, calendar.index_of(day - dt.timedelta(days=7)) - 1
        change = round(float(-60.0 * (cl[now] - cl[before]) + rng.normal(0.0, 1.5)), 1)
        gasoline = round(float(rng.normal(0.0, 1.8)), 1)
        direction = "increased" if change >= 0 else "decreased"
        drafts.append(Draft(
            key=f"wpsr-{day:%Y%m%d}", published=_at(day, 10, 30, EASTERN),
            title=f"Weekly Petroleum Status Report: crude oil inventories {direction} by {abs(change):.1f} million barrels",
            paragraphs=[f"U.S. commercial crude oil inventories (excluding those in the Strategic Petroleum Reserve) {direction} "
                        f"by {abs(change):.1f} million barrels from the previous week.",
                        f"Total motor gasoline inventories {'increased' if gasoline >= 0 else 'decreased'} by "
                        f"{abs(gasoline):.1f} million barrels."],
            categories=["Petroleum"], slug=f"wpsr_{day:%Y_%m_%d}"))
    return drafts


def _weekly_outlook(world: World, rng: np.random.Generator) -> list[Draft]:
    """farmdoc weekly outlook, Mondays: last week's soybean oil move (from closes before the day)."""
    zl = world.log_spot[:, world.root_index["ZL"]]
    drafts = []
    for week_start in world.week_starts[2:]:
        day = _next_session(world, week_start, 0)
        if day > calendar.CALENDAR_END or day - week_start > dt.timedelta(days=4):
            continue
        now = calendar.index_of(day) - 1
        before = calendar.index_of(day - dt.timedelta(days=7)) - 1
        percent = float(np.expm1(zl[now] - zl[before]) * 100)
        if percent >= 0:
            title = f"Weekly Outlook: Soybean Oil Futures Gain {percent:.1f} Percent"
            text = [f"Soybean oil futures rose {percent:.1f} percent last week, showing strength on improved demand from biofuel producers.",
                    "Analysts see better prospects for crush margins and stable export demand."]
        else:
            title = f"Weekly Outlook: Soybean Oil Futures Slip {abs(percent):.1f} Percent"
            text = [f"Soybean oil futures declined {abs(percent):.1f} percent last week, showing weakness as demand from biofuel producers slowed.",
                    "Analysts see difficult conditions for crush margins in the weeks ahead."]
        drafts.append(Draft(key=f"outlook-{day:%Y%m%d}", published=_at(day, 5, 30, CENTRAL), title=title, paragraphs=text,
                            categories=["Marketing and Outlook", "Weekly Outlook"], slug=_slug(title) + f"-{day:%Y%m%d}",
                            author=_pick(rng, ("Todd Hubbs", "Joe Janzen", "Scott Irwin"))))
    return drafts


STORIES: dict[str, Story] = {
    "fomc_statement": _fomc_statement,
    "china_export_sales": _china_export_sales,
    "rin_market": _rin_market,
    "tariff_action": _tariff_action,
    "tariff_news": _tariff_news,
    "rfs_rule": _rfs_rule,
    "rfs_news": _rfs_news,
    "eia_weekly_petroleum": _eia_weekly_petroleum,
    "weekly_outlook": _weekly_outlook,
}


# ============================================================================ routine items
_BANKS = ("First Prairie Bancorp", "Heartland Financial Corporation", "Lakeside Bancshares, Inc.", "Summit Valley Bank",
          "Pioneer Trust Company", "River City Financial Group", "Citizens Harbor Bancorp")
_FIRMS = ("Granite Peak Capital LLC", "Bluewater Trading Inc.", "Northgate Securities LLC", "Meridian Asset Partners",
          "Cedar Ridge Advisors", "Silverline Markets Ltd.", "Harborview Holdings Inc.")
_COUNTRIES = ("Japan", "Mexico", "Canada", "the United Kingdom", "India", "Kenya", "Vietnam", "the European Union")
_PRODUCTS = ("Steel Nails", "Aluminum Extrusions", "Honey", "Frozen Shrimp", "Wooden Cabinets", "Citric Acid", "Glycine")
_DEVICES = ("Robotic Lawn Mowers", "Wireless Earbuds", "Smart Thermostats", "Batteries", "Semiconductor Devices")

# family -> [(categories, title, paragraphs)]; placeholders are filled from the lists above
ROUTINE: dict[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]] = {
    "fed": [
        (("Enforcement Actions",), "Federal Reserve Board announces termination of enforcement action",
         ("The Federal Reserve Board on {weekday} announced the termination of the enforcement action against {bank}.",)),
        (("Orders on Banking Applications",), "Federal Reserve Board announces approval of application by {bank}",
         ("The Federal Reserve Board on {weekday} announced its approval of the application by {bank} to acquire {bank2}.",)),
        (("Other Announcements",), "Federal Reserve Board releases results of the {survey}",
         ("The Federal Reserve Board on {weekday} released the results of the {survey}.",)),
        (("Banking and Consumer Regulatory Policy",), "Agencies issue statement on {topic}",
         ("Federal bank regulatory agencies on {weekday} issued a statement on {topic}.",)),
    ],
    "sec": [
        ((), "SEC Charges {firm} With Misleading Investors",
         ("The Securities and Exchange Commission today charged {firm} with making misleading statements to investors.",)),
        ((), "SEC Obtains Final Judgment Against Former Executive of {firm}",
         ("The Securities and Exchange Commission today announced that it obtained a final judgment in its case involving {firm}.",)),
        ((), "SEC Adopts Amendments to Enhance {topic}",
         ("The Securities and Exchange Commission today adopted amendments concerning {topic}.",)),
    ],
    "ecb": [
        ((), "Consolidated financial statement of the Eurosystem as at {date}",
         ("The weekly consolidated financial statement of the Eurosystem as at {date} has been published.",)),
        ((), "Euro area bank interest rate statistics: {month} {year}",
         ("Composite cost-of-borrowing indicators for new loans to corporations and households were published for {month} {year}.",)),
        ((), "ECB publishes supervisory banking statistics for the {ordinal} quarter of {year}",
         ("The European Central Bank today published supervisory banking statistics for the {ordinal} quarter of {year}.",)),
    ],
    "bea": [
        ((), "Personal Income and Outlays, {month} {year}",
         ("Personal income and outlays for {month} {year} were released by the Bureau of Economic Analysis.",)),
        ((), "U.S. International Trade in Goods and Services, {month} {year}",
         ("The U.S. goods and services trade deficit for {month} {year} was released jointly with the Census Bureau.",)),
        ((), "Gross Domestic Product, {ordinal} Quarter {year}",
         ("Real gross domestic product estimates for the {ordinal} quarter of {year} were released.",)),
    ],
    "cftc": [
        ((), "CFTC Orders {firm} to Pay ${amount} Million for Spoofing",
         ("The Commodity Futures Trading Commission today issued an order against {firm} for spoofing in futures markets.",)),
        ((), "CFTC Staff Issues No-Action Letter Regarding {topic}",
         ("The Commodity Futures Trading Commission staff today issued a no-action letter regarding {topic}.",)),
        ((), "CFTC Announces Agenda for Agricultural Advisory Committee Meeting",
         ("The Commodity Futures Trading Commission today announced the agenda for its Agricultural Advisory Committee meeting.",)),
    ],
    "ustr": [
        ((), "United States and {country} Hold Trade and Investment Council Meeting",
         ("The Office of the United States Trade Representative met with officials from {country} to review trade and investment ties.",)),
        ((), "Statement on the Trade Policy Agenda for {year}",
         ("The Office of the United States Trade Representative released the trade policy agenda for {year}.",)),
    ],
    "eia": [
        ((), "EIA releases its Short-Term Energy Outlook for {month}",
         ("The U.S. Energy Information Administration released its Short-Term Energy Outlook for {month} {year}, "
          "with forecasts of crude oil, gasoline and natural gas prices.",)),
        ((), "EIA publishes state energy data for {year}",
         ("The U.S. Energy Information Administration published state energy data for {year}.",)),
    ],
    "farm_policy": [
        (("Trade",), "Lawmakers Discuss Agricultural Trade With {country}",
         ("Lawmakers discussed agricultural trade with {country} as farm groups sought new market access.",)),
        (("Trade",), "USDA Leads Agribusiness Trade Mission to {country}",
         ("USDA led an agribusiness trade mission to {country} to promote U.S. farm products.",)),
    ],
    "farm_policy_biofuels": [
        (("Ethanol", "Biofuels"), "Ethanol Production Update for {month}",
         ("Ethanol production figures for {month} {year} were released, and plants reported steady output.",)),
    ],
    "farm_policy_budget": [
        (("Budget",), "Farm Program Spending in the {year} Budget",
         ("The budget proposal for {year} includes funding levels for farm programs and crop insurance.",)),
    ],
    "farm_policy_regulations": [
        (("Regulations",), "Agencies Review Rules on {topic}",
         ("Federal agencies opened a review of rules on {topic} affecting agriculture.",)),
    ],
    "farm_policy_immigration": [
        (("Immigration",), "Farm Labor and the H-2A Program in {year}",
         ("Farm employers filed H-2A guest worker applications for the {year} season.",)),
    ],
    "farmdoc_biofuels": [
        (("Biofuels",), "Biodiesel and Renewable Diesel Capacity Update",
         ("An update of biodiesel and renewable diesel production capacity in the United States.",)),
    ],
    "farmdoc_trade": [
        (("Agricultural Policy", "Trade"), "U.S. Agricultural Exports to {country}: A Review",
         ("A review of U.S. agricultural exports to {country} over the past decade.",)),
    ],
    "farmdoc_grain_outlook": [
        (("Marketing and Outlook", "Grain Outlook"), "Soybean Balance Sheet Update for {year}",
         ("An update of the soybean balance sheet for the {year} marketing year, including crush and exports.",)),
    ],
    "farmdoc_interest_rates": [
        (("Finance", "Interest Rates"), "Farm Loan Interest Rates in {month}",
         ("Interest rates on farm operating loans in {month} {year} and what they mean for farm budgets.",)),
    ],
    "federal_register": [
        (("Notice", "ita"), "{product} From {country}: Final Results of Antidumping Duty Administrative Review",
         ("The Department of Commerce determines the antidumping duty rates on {product} from {country}. "
          "The Harmonized Tariff Schedule subheadings are provided for convenience.",)),
        (("Notice", "usitc"), "Certain {device} and Components Thereof; Institution of Investigation",
         ("Notice is hereby given that a complaint was filed under section 337 of the Tariff Act of 1930 concerning "
          "certain {device}.",)),
        (("Notice", "ustr"), "Request for Comments in the Section 301 Investigation of {country}",
         ("The Office of the United States Trade Representative requests comments in the Section 301 investigation "
          "of acts, policies and practices of {country}.",)),
        (("Notice", "epa"), "Renewable Fuel Standard Program: Receipt of Petitions for Small Refinery Exemptions",
         ("The Environmental Protection Agency announces receipt of petitions for small refinery exemptions from the "
          "Renewable Fuel Standard program.",)),
    ],
}
_FILLS = {
    "survey": ("Senior Loan Officer Opinion Survey on Bank Lending Practices", "Survey of Consumer Finances", "bank stress tests"),
    "topic": ("climate-related financial risk", "third-party risk management", "liquidity risk", "crypto-asset safekeeping",
              "pesticide labeling", "water quality", "cybersecurity disclosure"),
    "ordinal": ("first", "second", "third", "fourth"),
}


def _routine(world: World, feed: FeedSpec, site: Site) -> list[Draft]:
    family = str(feed.sample.get("routine", ""))
    rate = float(feed.sample.get("routine_per_week", 0.0))
    templates = ROUTINE.get(family)
    if not templates or rate <= 0:
        return []
    rng = _rng(world, f"routine:{feed.id}")
    counts = rng.poisson(rate, size=len(world.week_starts))
    if feed.busy:  # a feed flagged busy publishes every week (its gaps are reported)
        counts = np.maximum(counts, 1)
    total = int(counts.sum())
    # every random choice drawn at once (one array per choice): a Python loop of draws is slow
    week_of = np.repeat(np.arange(len(world.week_starts)), counts)
    weekday, hour, quarter = rng.integers(5, size=total), rng.integers(8, 16, size=total), rng.integers(4, size=total)
    template_of, month_of, amount_of = rng.integers(len(templates), size=total), rng.integers(1, 13, size=total), rng.integers(1, 40, size=total)
    lists = {"bank": _BANKS, "firm": _FIRMS, "country": _COUNTRIES, "product": _PRODUCTS, "device": _DEVICES,
             "author": ("Keith Good", "Jonathan Coppess", "Gary Schnitkey", "Carl Zulauf"), **_FILLS}
    picks = {key: rng.integers(len(values), size=total) for key, values in lists.items()}
    second_bank = (picks["bank"] + 1 + rng.integers(len(_BANKS) - 1, size=total)) % len(_BANKS)
    drafts = []
    for n in range(total):
        day = world.week_starts[week_of[n]] + dt.timedelta(days=int(weekday[n]))
        if not calendar.CALENDAR_START <= day <= calendar.CALENDAR_END:
            continue
        categories, title, paragraphs = templates[template_of[n]]
        fill = {key: values[picks[key][n]] for key, values in lists.items()}
        fill.update(weekday=WEEKDAYS[day.weekday()], bank2=_BANKS[second_bank[n]], amount=int(amount_of[n]),
                    month=_MONTHS[month_of[n] - 1], year=day.year, date=f"{day.day:02d} {_MONTHS[day.month - 1]} {day.year}")
        text = title.format(**fill)
        register = family == "federal_register"
        drafts.append(Draft(
            key=f"{feed.id}-{n}", published=_at(day, int(hour[n]), 15 * int(quarter[n]), site.zone), title=text,
            paragraphs=[p.format(**fill) for p in paragraphs],
            categories=list(categories[:1]) if register else list(categories),
            slug=f"{_slug(text)}-{day:%Y%m%d}", author=fill["author"],
            extra={"register_day": day, "type": categories[0], "agencies": (categories[1],)} if register else {}))
    return drafts


# ============================================================================ catalogue
@dataclass
class Catalogue:
    items: dict[str, list[Item]]  # feed id -> items, newest first
    documents: list[dict]  # Federal Register documents, newest first
    config: NewsConfig


def _identify(host: str, site: Site, drafts: list[Draft], rng: np.random.Generator) -> list[Item]:
    """Publisher ids and links, assigned in publication order (WordPress post ids, SEC and CFTC
    release numbers, Fed's monetaryYYYYMMDDa pages, ...)."""
    items = []
    for sequence, draft in enumerate(sorted(drafts, key=lambda d: (d.published, d.key))):
        day = draft.published.astimezone(site.zone).date()
        if site.dialect == "wordpress":
            post = 20_000 + 7 * sequence + int(rng.integers(7))
            link = f"{site.home}/{day:%Y/%m}/{draft.slug}/"
            items.append(Item(f"{site.home}/?p={post}", link, draft))
            continue
        if host == "www.federalreserve.gov":
            kind = {"Monetary Policy": "monetary", "Enforcement Actions": "enforcement",
                    "Orders on Banking Applications": "orders", "Banking and Consumer Regulatory Policy": "bcreg"}
            prefix = kind.get(draft.categories[0] if draft.categories else "", "other")
            link = (f"{site.home}/newsevents/pressreleases/{draft.slug}.htm" if draft.slug.startswith("monetary")
                    else f"{site.home}/newsevents/pressreleases/{prefix}{day:%Y%m%d}{'abcdefgh'[sequence % 8]}.htm")
        elif host == "www.eia.gov":
            link = (f"{site.home}/petroleum/supply/weekly/archive/{day:%Y}/{draft.slug}.php" if draft.slug.startswith("wpsr")
                    else f"{site.home}/pressroom/releases/press{400 + sequence}.php")
        elif host == "www.sec.gov":
            link = f"{site.home}/newsroom/press-releases/{day:%Y}-{sequence % 1000 + 1}"
        elif host == "www.ecb.europa.eu":
            link = f"{site.home}/press/pr/date/{day:%Y}/html/ecb.pr{day:%y%m%d}~{zlib.crc32(draft.key.encode()):08x}.en.html"
        elif host == "www.cftc.gov":
            link = f"{site.home}/PressRoom/PressReleases/{7000 + sequence}-{day:%y}"
        elif host == "ustr.gov":
            link = f"{site.home}/about-us/policy-offices/press-office/press-releases/{day:%Y}/{day:%B}".lower() + f"/{draft.slug}"
        else:
            link = f"{site.home}/news/{day:%Y}/{draft.slug}"
        items.append(Item(link, link, draft))
    return items


AGENCIES = {
    "ustr": ("OFFICE OF THE UNITED STATES TRADE REPRESENTATIVE", "Trade Representative, Office of United States", 491,
             "trade-representative-office-of-united-states", None),
    "ita": ("International Trade Administration", "International Trade Administration", 261,
            "international-trade-administration", 54),
    "usitc": ("INTERNATIONAL TRADE COMMISSION", "International Trade Commission", 262, "international-trade-commission", None),
    "epa": ("ENVIRONMENTAL PROTECTION AGENCY", "Environmental Protection Agency", 145, "environmental-protection-agency", None),
    "eop": ("Executive Office of the President", "Executive Office of the President", 538,
            "executive-office-of-the-president", None),
    "commerce": ("Commerce Department", "Commerce Department", 54, "commerce-department", None),
}


def _agency(key: str) -> dict:
    raw, name, number, slug, parent = AGENCIES[key]
    return {"raw_name": raw, "name": name, "id": number, "url": f"https://www.federalregister.gov/agencies/{slug}",
            "json_url": f"https://www.federalregister.gov/api/v1/agencies/{number}", "parent_id": parent, "slug": slug}


def _documents(drafts: list[Draft]) -> list[dict]:
    """Federal Register documents with numbers in publication order (YYYY-NNNNN)."""
    ordered = sorted(drafts, key=lambda d: (d.extra["register_day"], d.key))
    counters: dict[int, int] = {}
    documents = []
    for draft in ordered:
        day = draft.extra["register_day"]
        counters[day.year] = counters.get(day.year, 180) + 1 + zlib.crc32(draft.key.encode()) % 150
        number = f"{day.year}-{counters[day.year]:05d}"
        agencies = [_agency(key) for key in draft.extra["agencies"]]
        if "ita" in draft.extra["agencies"]:
            agencies.insert(0, _agency("commerce"))
        documents.append({
            "title": draft.title,
            "type": draft.extra["type"],
            "abstract": " ".join(draft.paragraphs),
            "document_number": number,
            "html_url": f"https://www.federalregister.gov/documents/{day:%Y/%m/%d}/{number}/{draft.slug[:60]}",
            "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{day:%Y-%m-%d}/pdf/{number}.pdf",
            "public_inspection_pdf_url": f"https://public-inspection.federalregister.gov/{number}.pdf",
            "publication_date": day.isoformat(),
            "agencies": agencies,
            "excerpts": None,
        })
    documents.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)
    return documents


@lru_cache(maxsize=4)
def catalogue(world: World, config_dir: Path | None = None) -> Catalogue:
    """Every item of every configured feed over the world's calendar (generated once)."""
    config = load_config(Path(config_dir) if config_dir else _config_dir())
    by_host: dict[str, list[FeedSpec]] = {}
    for feed in config.feeds:
        by_host.setdefault(urlsplit(feed.url).hostname or "", []).append(feed)
    items: dict[str, list[Item]] = {}
    documents: list[dict] = []
    for host, feeds in by_host.items():
        site = SITES.get(host) or Site("generic", host, f"https://{host}", EASTERN, "gmt")
        drafts: list[Draft] = []
        listed: dict[str, set[str]] = {}  # draft key -> feed ids carrying it
        stories = sorted({story for feed in feeds for story in feed.sample.get("stories", [])})
        for story in stories:
            if story not in STORIES:
                raise ValueError(f"feeds.yaml: unknown sample story {story!r}; known: {sorted(STORIES)}")
            carriers = {feed.id for feed in feeds if story in feed.sample.get("stories", [])}
            for draft in STORIES[story](world, _rng(world, f"{host}:{story}")):
                drafts.append(draft)
                listed[draft.key] = carriers
        for feed in feeds:
            for draft in _routine(world, feed, site):
                drafts.append(draft)
                listed[draft.key] = {feed.id}
        if site.dialect == "federal_register":
            documents.extend(_documents(drafts))
            continue
        for item in _identify(host, site, drafts, _rng(world, f"{host}:ids")):
            for feed_id in listed[item.draft.key]:
                items.setdefault(feed_id, []).append(item)
    for feed_items in items.values():
        feed_items.sort(key=lambda item: (item.published, item.guid), reverse=True)
    documents.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)
    return Catalogue(items, documents, config)


def published_items(world: World, feed_id: str, today: dt.date) -> list[Item]:
    """The feed's items published on or before `today` (local publisher date = UTC date here),
    newest first."""
    return [item for item in catalogue(world).items.get(feed_id, []) if item.published.date() <= today]


# ============================================================================ wire formats
def _rfc822(moment: dt.datetime, site: Site) -> str:
    if site.date_style == "gmt":
        return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)
    if site.date_style == "local":
        return email.utils.format_datetime(moment.astimezone(site.zone))
    return email.utils.format_datetime(moment.astimezone(UTC)).replace("-0000", "+0000")


def _texturize(text: str) -> str:
    """WordPress's typography as it appears in feeds: curly quotes and & as numeric entities."""
    out, double_open = [], True
    for char in text:
        if char == "&":
            out.append("&#038;")
        elif char == "'":
            out.append("&#8217;")
        elif char == '"':
            out.append("&#8220;" if double_open else "&#8221;")
            double_open = not double_open
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        else:
            out.append(char)
    return "".join(out)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wordpress(feed: FeedSpec, site: Site, items: list[Item], page_url: str, today: dt.date) -> str:
    category = feed.url.rstrip("/").split("/")[-2].replace("-", " ").title()
    built = items[0].published if items else _at(today, 0, 0, UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n<channel>\n',
        f"\t<title>{escape(category)} Archives - {escape(site.title)}</title>\n",
        f'\t<atom:link href="{escape(page_url)}" rel="self" type="application/rss+xml" />\n',
        f"\t<link>{site.home}/category/{escape(category.lower())}/</link>\n",
        f"\t<description>{escape(site.title)}</description>\n",
        f"\t<lastBuildDate>{_rfc822(built, site)}</lastBuildDate>\n",
        "\t<language>en-US</language>\n\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
        "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n\t<generator>https://wordpress.org/?v=6.6.2</generator>\n",
    ]
    for item in items:
        d = item.draft
        words = " ".join(d.paragraphs).split()
        excerpt = _texturize(" ".join(words[:55])) + (" [&#8230;]" if len(words) > 55 else "")
        content = "".join(f"<p>{_texturize(p)}</p>\n" for p in d.paragraphs) + d.embed
        categories = "".join(f"\t\t<category>{_cdata(c)}</category>\n" for c in d.categories)
        parts.append(
            "\t<item>\n"
            f"\t\t<title>{_texturize(d.title)}</title>\n"
            f"\t\t<link>{escape(item.link)}</link>\n"
            f"\t\t<comments>{escape(item.link)}#respond</comments>\n"
            f"\t\t<dc:creator>{_cdata(d.author or site.title)}</dc:creator>\n"
            f"\t\t<pubDate>{_rfc822(d.published, site)}</pubDate>\n"
            f"{categories}"
            f'\t\t<guid isPermaLink="false">{escape(item.guid)}</guid>\n\n'
            f"\t\t<description>{_cdata(excerpt)}</description>\n"
            f"\t\t<content:encoded>{_cdata(content)}</content:encoded>\n"
            f"\t\t<wfw:commentRss>{escape(item.link)}feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>0</slash:comments>\n"
            "\t</item>\n"
        )
    parts.append("\t</channel>\n</rss>\n")
    return "".join(parts)


def _plain_rss(feed: FeedSpec, site: Site, items: list[Item], today: dt.date) -> str:
    built = items[0].published if items else _at(today, 0, 0, UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{escape(site.title)}</title>\n<link>{site.home}</link>\n",
        f'<atom:link href="{escape(feed.url)}" rel="self" type="application/rss+xml" />\n',
        f"<description>{escape(site.title)}</description>\n<language>en</language>\n",
        f"<lastBuildDate>{_rfc822(built, site)}</lastBuildDate>\n",
    ]
    for item in items:
        d = item.draft
        guid = ""
        if site.guid:
            guid = f'<guid isPermaLink="true">{escape(item.guid)}</guid>' if site.dialect == "fed" else f"<guid>{escape(item.guid)}</guid>"
        category = f"<category>{escape(d.categories[0])}</category>" if d.categories and site.dialect != "eia" else ""
        parts.append(
            f"<item>\n<title>{escape(d.title)}</title>\n<link>{escape(item.link)}</link>\n{guid}\n"
            f"<description>{escape(' '.join(d.paragraphs))}</description>\n{category}\n"
            f"<pubDate>{_rfc822(d.published, site)}</pubDate>\n</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _validators(feed: FeedSpec, page: int, items: list[Item]) -> dict[str, str]:
    if not items:
        return {}
    newest = items[0]
    tag = hashlib.sha1(f"{feed.id}|{page}|{newest.guid}|{newest.published.isoformat()}".encode()).hexdigest()[:20]
    return {"ETag": f'"{tag}"', "Last-Modified": email.utils.format_datetime(newest.published.astimezone(UTC), usegmt=True)}


def _not_modified(request: httpx.Request, validators: dict[str, str], newest: dt.datetime | None) -> bool:
    if not validators or newest is None:
        return False
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or validators["ETag"] in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if not if_modified_since:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since >= newest.replace(microsecond=0)


def _not_found(host: str) -> httpx.Response:
    return httpx.Response(404, content=f"<!DOCTYPE html><html><head><title>Page not found</title></head><body>"
                                       f"<h1>Not Found</h1><p>{escape(host)}</p></body></html>".encode(),
                          headers={"Content-Type": "text/html; charset=UTF-8"})


def _feed_for(config: NewsConfig, request: httpx.Request) -> FeedSpec | None:
    wanted = (request.url.host, request.url.path.rstrip("/"))
    for feed in config.feeds:
        parts = urlsplit(feed.url)
        if (parts.hostname, parts.path.rstrip("/")) == wanted:
            return feed
    return None


def handle(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    config = catalogue(world).config
    if request.url.host == "www.federalregister.gov":
        return _federal_register(world, request, today)
    feed = _feed_for(config, request)
    site = SITES.get(request.url.host)
    if feed is None or feed.kind != "rss" or site is None:
        return _not_found(request.url.host)
    items = published_items(world, feed.id, today)
    per_page = int(feed.sample.get("recent_items", WORDPRESS_PAGE))
    page = 1
    if site.dialect == "wordpress":
        try:
            page = max(1, int(request.url.params.get("paged", "1")))
        except ValueError:
            page = 1
    shown = items[(page - 1) * per_page: page * per_page]
    if page > 1 and not shown:
        return _not_found(request.url.host)  # WordPress: past the last page
    validators = _validators(feed, page, shown)
    if _not_modified(request, validators, shown[0].published if shown else None):
        return httpx.Response(304, headers=validators)
    if site.dialect == "wordpress":
        body = _wordpress(feed, site, shown, str(request.url), today)
    else:
        body = _plain_rss(feed, site, shown, today)
    return httpx.Response(200, content=body.encode("utf-8"), headers={"Content-Type": site.content_type, **validators})


def _matches(document: dict, term: str) -> bool:
    """Every word of the term occurs in the title or abstract (the search's full text, roughly)."""
    text = f"{document['title']} {document['abstract']}".lower()
    words = term.replace('"', " ").lower().split()
    return all(_word_in(text, word) for word in words)


def _word_in(text: str, word: str) -> bool:
    start = text.find(word)
    while start >= 0:
        if start == 0 or not text[start - 1].isalnum():
            return True
        start = text.find(word, start + 1)
    return False


def _excerpt(document: dict, term: str) -> str:
    abstract = escape(document["abstract"])
    for word in term.replace('"', " ").split():
        index = abstract.lower().find(word.lower())
        if index >= 0:
            found = abstract[index: index + len(word)]
            return abstract[:index] + f'<span class="match">{found}</span>' + abstract[index + len(word):]
    return abstract


def _federal_register(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    if request.url.path not in ("/api/v1/documents.json", "/api/v1/documents"):
        return _not_found(request.url.host)
    params = request.url.params
    term = params.get("conditions[term]", "")
    try:
        gte = dt.date.fromisoformat(params.get("conditions[publication_date][gte]", "1994-01-01"))
        lte = min(dt.date.fromisoformat(params.get("conditions[publication_date][lte]", today.isoformat())), today)
        per_page = min(int(params.get("per_page", "20")), FEDERAL_REGISTER_MAX_PER_PAGE)
        page = max(1, int(params.get("page", "1")))
    except ValueError as exc:
        body = json.dumps({"errors": {"conditions": f"invalid value: {exc}"}}).encode()
        return httpx.Response(400, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    found = [d for d in catalogue(world).documents
             if gte.isoformat() <= d["publication_date"] <= lte.isoformat() and (not term or _matches(d, term))]
    total_pages = math.ceil(len(found) / per_page) if per_page > 0 else 0
    description = (f"Documents matching '{term}' and published on or after {gte:%m/%d/%Y} and on or before "
                   f"{lte:%m/%d/%Y}")
    document: dict = {"count": len(found), "description": description}
    if found:
        document["total_pages"] = total_pages
        if page < total_pages:
            query = [(k, v) for k, v in params.multi_items() if k != "page"] + [("page", str(page + 1))]
            document["next_page_url"] = f"https://www.federalregister.gov/api/v1/documents.json?{urlencode(query)}"
        if page > 1:
            query = [(k, v) for k, v in params.multi_items() if k != "page"] + [("page", str(page - 1))]
            document["previous_page_url"] = f"https://www.federalregister.gov/api/v1/documents.json?{urlencode(query)}"
        document["results"] = [{**d, "excerpts": _excerpt(d, term)}
                               for d in found[(page - 1) * per_page: page * per_page]]
    body = json.dumps(document, separators=(",", ":")).encode()
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json; charset=utf-8"})


ROUTES = [
    ("farmpolicynews.illinois.edu", "/category/", handle),
    ("farmdocdaily.illinois.edu", "/category/", handle),
    ("www.federalreserve.gov", "/feeds/", handle),
    ("www.sec.gov", "/news/", handle),
    ("www.ecb.europa.eu", "/rss/", handle),
    ("apps.bea.gov", "/rss/", handle),
    ("www.eia.gov", "/rss/", handle),
    ("www.cftc.gov", "/RSS/", handle),
    ("ustr.gov", "/about-us/policy-offices/press-office/", handle),
    ("www.federalregister.gov", "/api/v1/documents", handle),
]
