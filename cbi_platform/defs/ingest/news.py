"""raw/news_items: news and policy feeds (RSS/Atom) and the Federal Register API."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets
from cbi_platform.lib.sources import news as news_source

news_items = ingest_assets(
    name="news",
    source=news_source.spec,
    group="ingest_news",
    kinds={"python", "rss"},
    tables=[RawTable(
        news_source.TABLE_SPEC,
        "News and policy items from Farm Policy News, farmdoc daily, the Federal Reserve, SEC, ECB, BEA, EIA, CFTC and "
        "USTR feeds and the Federal Register API (tariffs, Section 301, the renewable fuel standard): plain-text body, "
        "bucket tags from config rules, Loughran-McDonald sentiment; de-duplicated by (source, guid); as_of_date is "
        "the UTC publication date. Feeds are polled with conditional GET.",
        max_age_days=3,
        publication_expected=lambda window: (window.end - window.start).days >= 7,
    )],
)
