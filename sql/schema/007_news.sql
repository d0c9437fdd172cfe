-- News and policy items: RSS/Atom feeds and the Federal Register (config/sources/feeds.yaml).
-- One row per (feed, item): the same article carried by two feeds is kept once per feed; an
-- item seen again in a later fetch of the same feed replaces itself. as_of_date is the UTC date
-- the item was published: news is public the moment it is posted.
CREATE TABLE IF NOT EXISTS raw.news_items (
    source             VARCHAR   NOT NULL,  -- feed id from config (fpn_trade, fed_press, federal_register, ...)
    guid               VARCHAR   NOT NULL,  -- the item's guid / Atom id / FR document_number; its url when it has none
    url                VARCHAR,             -- link to the article or document
    published_at       TIMESTAMP NOT NULL,  -- publication time, UTC (FR: 06:00 Eastern on the publication date)
    title              VARCHAR,             -- plain text, entities decoded
    summary            VARCHAR,             -- plain-text description / FR excerpt, truncation marker removed
    body               VARCHAR,             -- plain-text article (content:encoded, Atom content, FR abstract), capped at max_body_chars
    categories         VARCHAR,             -- the item's categories as published, comma-separated (a comma inside one becomes ';'; FR: type, agencies)
    buckets            VARCHAR,             -- feature buckets the text mentions, comma-separated (china, tariff, fed, biofuel, energy, crush, fx, volatility)
    sentiment          DOUBLE    NOT NULL,  -- Loughran-McDonald polarity (pos - neg) / (pos + neg); 0 without sentiment words
    sentiment_positive INTEGER   NOT NULL,  -- LM positive word count (title + body)
    sentiment_negative INTEGER   NOT NULL,  -- LM negative word count (title + body)
    as_of_date         DATE      NOT NULL,  -- UTC date of published_at
    ingested_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (source, guid)
);
