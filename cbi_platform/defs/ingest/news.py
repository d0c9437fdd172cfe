"""raw/news_items: news and policy feeds (RSS/Atom) and the Federal Register API."""

from cbi_platform.defs.ingest.common import RawTable, ingest_assets

TABLE = "raw.news_items"


def source():
    from cbi_platform.lib.ingest import SourceSpec, TableSpec
    from cbi_platform.lib.sources import news

    return SourceSpec(news.SOURCE, news.fetch, news.parse, (TableSpec(TABLE, news.PRIMARY_KEY, "source", rows_roll_off=True),),
                      news.expected_keys)


news_items = ingest_assets(
    name="news",
    source=source,
    group="ingest_news",
    kinds={"python", "rss"},
    tables=[RawTable(
        TABLE,
        "News and policy items from Farm Policy News, farmdoc daily, the Federal Reserve, SEC, ECB, BEA, EIA, CFTC and "
        "USTR feeds and the Federal Register API (tariffs, Section 301, the renewable fuel standard): plain-text body, "
        "bucket tags from config rules, Loughran-McDonald sentiment; de-duplicated by (source, guid); as_of_date is "
        "the UTC publication date. Feeds are polled with conditional GET.",
        ("source", "guid"), max_age_days=3,
        publication_expected=lambda window: (window.end - window.start).days >= 7,
    )],
)
