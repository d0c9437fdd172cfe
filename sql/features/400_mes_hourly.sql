-- features.mes_hourly: the hourly panel for the MES TimeSeriesPredictor, one item per futures
-- root (60+), trained jointly (transfer learning across markets).
--   target: log of the front month's close, forward-adjusted at rolls (the calendar spread at
--           each roll is removed from that bar on, so a roll never looks like a price move)
--   known covariates (the calendar, known ahead): hour_utc, day_of_week_utc, month_start, month_end
--   past covariates: daily aggregates known at the end of the previous day (so an hourly bar
--           never sees a figure published later that day): FRED values by category
--           (avg/min/max/count of each category's latest values), VIX, news counts over 7 days
--           (all feeds, the Fed, the SEC, the ECB), and policy news tone: the mean sentiment of
--           items tagged tariff/fed/biofuel and their "impact", the sum of |sentiment| (how much
--           strongly worded policy news there was), over 7 days.
CREATE OR REPLACE TABLE features.mes_hourly AS
WITH bars AS (
    SELECT root AS item_id, ts_event, trade_date, close, volume
    FROM raw.futures_ohlcv_1h WHERE rank = 0
), roll_gaps AS (
    SELECT root, trade_date,
           sum(raw_gap - adjusted_return) OVER (PARTITION BY root ORDER BY trade_date) AS cumulative_gap
    FROM features.roll_calendar
), adjusted AS (
    SELECT b.*, ln(b.close) - coalesce(g.cumulative_gap, 0.0) AS target
    FROM bars b ASOF LEFT JOIN roll_gaps g ON b.item_id = g.root AND b.trade_date >= g.trade_date
), daily AS (
    SELECT p.trade_date,
        avg(p.value) FILTER (c.category = 'rates') AS rates_avg,
        min(p.value) FILTER (c.category = 'rates') AS rates_min,
        max(p.value) FILTER (c.category = 'rates') AS rates_max,
        count(p.value) FILTER (c.category = 'rates') AS rates_count,
        avg(p.value) FILTER (c.category = 'yields') AS yields_avg,
        min(p.value) FILTER (c.category = 'yields') AS yields_min,
        max(p.value) FILTER (c.category = 'yields') AS yields_max,
        count(p.value) FILTER (c.category = 'yields') AS yields_count,
        avg(p.value) FILTER (c.category = 'fx') AS fx_avg,
        min(p.value) FILTER (c.category = 'fx') AS fx_min,
        max(p.value) FILTER (c.category = 'fx') AS fx_max,
        count(p.value) FILTER (c.category = 'fx') AS fx_count,
        avg(p.value) FILTER (c.category = 'inflation') AS inflation_avg,
        min(p.value) FILTER (c.category = 'inflation') AS inflation_min,
        max(p.value) FILTER (c.category = 'inflation') AS inflation_max,
        count(p.value) FILTER (c.category = 'inflation') AS inflation_count,
        avg(p.value) FILTER (c.category = 'labor') AS labor_avg,
        min(p.value) FILTER (c.category = 'labor') AS labor_min,
        max(p.value) FILTER (c.category = 'labor') AS labor_max,
        count(p.value) FILTER (c.category = 'labor') AS labor_count,
        avg(p.value) FILTER (c.category = 'activity') AS activity_avg,
        min(p.value) FILTER (c.category = 'activity') AS activity_min,
        max(p.value) FILTER (c.category = 'activity') AS activity_max,
        count(p.value) FILTER (c.category = 'activity') AS activity_count,
        avg(p.value) FILTER (c.category = 'money') AS money_avg,
        min(p.value) FILTER (c.category = 'money') AS money_min,
        max(p.value) FILTER (c.category = 'money') AS money_max,
        count(p.value) FILTER (c.category = 'money') AS money_count,
        avg(p.value) FILTER (c.category = 'commodities') AS commodities_avg,
        min(p.value) FILTER (c.category = 'commodities') AS commodities_min,
        max(p.value) FILTER (c.category = 'commodities') AS commodities_max,
        count(p.value) FILTER (c.category = 'commodities') AS commodities_count,
        avg(p.value) FILTER (c.category = 'indexes') AS indexes_avg,
        min(p.value) FILTER (c.category = 'indexes') AS indexes_min,
        max(p.value) FILTER (c.category = 'indexes') AS indexes_max,
        count(p.value) FILTER (c.category = 'indexes') AS indexes_count,
        max(p.value) FILTER (p.series_id = 'VIXCLS') AS vix
    FROM features.macro_pit p JOIN features.config_fred_series c USING (series_id)
    GROUP BY p.trade_date
), news_days AS (
    SELECT as_of_date AS day, count(*) AS n, count(*) FILTER (source = 'fed_press') AS fed_n,
           count(*) FILTER (source = 'sec_press') AS sec_n, count(*) FILTER (source = 'ecb_press') AS ecb_n,
           sum(sentiment) FILTER (regexp_matches(buckets, '(^|,)(tariff|fed|biofuel)(,|$)')) AS policy_s,
           count(*) FILTER (regexp_matches(buckets, '(^|,)(tariff|fed|biofuel)(,|$)')) AS policy_n,
           sum(abs(sentiment)) FILTER (regexp_matches(buckets, '(^|,)(tariff|fed|biofuel)(,|$)')) AS policy_impact
    FROM raw.news_items GROUP BY as_of_date
), news AS (
    SELECT d.trade_date,
           coalesce(sum(n.n), 0) AS news_count_7d, coalesce(sum(n.fed_n), 0) AS news_fed_7d,
           coalesce(sum(n.sec_n), 0) AS news_sec_7d, coalesce(sum(n.ecb_n), 0) AS news_ecb_7d,
           coalesce(features.safe_div(sum(n.policy_s), sum(n.policy_n)), 0) AS policy_sentiment_7d,
           coalesce(sum(n.policy_impact), 0) AS policy_impact_7d
    FROM (SELECT DISTINCT trade_date FROM daily) d
    LEFT JOIN news_days n ON n.day > d.trade_date - 7 AND n.day <= d.trade_date
    GROUP BY d.trade_date
), daily_all AS (
    SELECT * FROM daily JOIN news USING (trade_date)
)
SELECT
    a.item_id,                                          -- futures root (MES, ES, ZL, ...)
    a.ts_event AS timestamp,                            -- bar start, UTC
    a.trade_date,                                       -- the Globex session of the bar
    a.target,                                           -- ln(front close), forward roll-adjusted
    a.close,                                            -- front-month close as traded
    ln(greatest(a.volume, 1)) AS log_volume,            -- past covariate
    hour(a.ts_event) AS hour_utc,                       -- known covariate
    isodow(a.ts_event) AS day_of_week_utc,              -- known covariate, 1 = Monday
    CAST(day(a.ts_event) <= 3 AS INTEGER) AS month_start,                              -- known covariate
    CAST(day(a.ts_event) >= day(last_day(a.ts_event)) - 2 AS INTEGER) AS month_end,    -- known covariate
    d.* EXCLUDE (trade_date)
FROM adjusted a
ASOF LEFT JOIN daily_all d ON a.ts_event::DATE > d.trade_date
ORDER BY a.item_id, a.ts_event;
