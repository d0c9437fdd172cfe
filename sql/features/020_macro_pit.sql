-- features.macro_pit: for every ZL trading day D and FRED series, the value known at the end of
-- D: the latest observation first published on or before D, at its newest vintage published on
-- or before D. Never a later revision, never an observation published after D.
-- value_12m_ago: the observation one year before that one, as known at D (for YoY changes).
CREATE OR REPLACE TABLE features.macro_pit AS
WITH first_published AS (
    SELECT series_id, observation_date, min(realtime_start) AS published
    FROM raw.fred_observations
    WHERE value IS NOT NULL
    GROUP BY ALL
), per_day AS (
    SELECT series_id, published, max(observation_date) AS newest_observation
    FROM first_published GROUP BY ALL
), latest_known AS (
    SELECT series_id, published,
           max(newest_observation) OVER (PARTITION BY series_id ORDER BY published
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS latest_observation
    FROM per_day
), grid AS (
    SELECT d.trade_date, s.series_id
    FROM (SELECT DISTINCT trade_date FROM raw.futures_ohlcv_1d WHERE root = 'ZL' AND rank = 0) d
    CROSS JOIN (SELECT DISTINCT series_id FROM first_published) s
), located AS (
    SELECT g.trade_date, g.series_id, k.latest_observation
    FROM grid g ASOF LEFT JOIN latest_known k
      ON g.series_id = k.series_id AND g.trade_date >= k.published
), valued AS (
    SELECT l.*, v.value, v.realtime_start AS vintage
    FROM located l ASOF LEFT JOIN raw.fred_observations v
      ON l.series_id = v.series_id AND l.latest_observation = v.observation_date AND l.trade_date >= v.realtime_start
)
SELECT x.trade_date,
       x.series_id,                                     -- FRED series id
       x.latest_observation AS observation_date,        -- the newest observation published by trade_date
       x.value,                                         -- its value in the newest vintage published by trade_date
       x.vintage,                                       -- when that vintage was published (realtime_start)
       y.value AS value_12m_ago                         -- the observation a year earlier, as known at trade_date
FROM valued x ASOF LEFT JOIN raw.fred_observations y
  ON x.series_id = y.series_id
 AND (x.latest_observation - INTERVAL 12 MONTH)::DATE = y.observation_date
 AND x.trade_date >= y.realtime_start;

-- features.macro_wide: the same values pivoted, one row per trading day and one column per
-- series the feature views use (the one place a FRED series id becomes a column name).
CREATE OR REPLACE TABLE features.macro_wide AS
SELECT trade_date,
    max(value) FILTER (series_id = 'DFF') AS dff,              -- effective fed funds rate, daily incl. weekends, %
    max(value) FILTER (series_id = 'EFFR') AS effr,            -- effective fed funds rate (NY Fed), business days, %
    max(value) FILTER (series_id = 'DFEDTARU') AS fed_upper,   -- upper limit of the fed funds target range, %
    max(value) FILTER (series_id = 'DGS2') AS dgs2,            -- 2-year Treasury constant-maturity yield, %
    max(value) FILTER (series_id = 'DGS10') AS dgs10,          -- 10-year Treasury constant-maturity yield, %
    max(value) FILTER (series_id = 'T10Y2Y') AS t10y2y,        -- 10-year minus 2-year Treasury yield, points
    max(value) FILTER (series_id = 'T10Y3M') AS t10y3m,        -- 10-year minus 3-month Treasury yield, points
    max(value) FILTER (series_id = 'NFCI') AS nfci,            -- Chicago Fed financial conditions (weekly, as published)
    max(value) FILTER (series_id = 'STLFSI4') AS stlfsi4,      -- St. Louis Fed financial stress (weekly, as published)
    max(value) FILTER (series_id = 'VIXCLS') AS vix,           -- CBOE VIX close (as published)
    max(value) FILTER (series_id = 'OVXCLS') AS ovx,           -- CBOE crude oil volatility index (as published)
    max(value) FILTER (series_id = 'UNRATE') AS unrate,        -- unemployment rate (monthly, as published)
    max(features.log_ratio(value, value_12m_ago)) FILTER (series_id = 'CPIAUCSL') AS cpi_yoy, -- CPI log change over 12 months, as known then
    max(value) FILTER (series_id = 'DTWEXBGS') AS broad_dollar, -- FRED nominal broad U.S. dollar index
    max(value) FILTER (series_id = 'DEXBZUS') AS brl_per_usd,  -- Brazilian reais per U.S. dollar (noon buying rate)
    max(value) FILTER (series_id = 'DEXCHUS') AS cny_per_usd,  -- Chinese yuan per U.S. dollar (noon buying rate)
    max(value) FILTER (series_id = 'DEXMXUS') AS mxn_per_usd   -- Mexican pesos per U.S. dollar (noon buying rate)
FROM features.macro_pit
GROUP BY trade_date;
