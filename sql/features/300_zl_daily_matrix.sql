-- features.zl_daily_matrix: one row per ZL trading day: every feature (core and every bucket's
-- inputs) and the targets.
-- Targets are forward log returns of the roll-adjusted ZL front month over 5, 21, 63 and 126
-- trading days (1w, 1m, 3m, 6m), NULL until the whole horizon has settled. target_end_*: the
-- trading day each horizon ends on (purging uses it: a training row whose target ends after
-- validation starts has seen the validation period).
CREATE OR REPLACE TABLE features.zl_daily_matrix AS
WITH r AS (
    -- targets sum the settled returns: a vendor roll found in hindsight within its contract's
    -- segment is fine for a target, whose horizon lies in the future anyway
    SELECT trade_date, settled_log_return AS log_return FROM features.futures_returns WHERE root = 'ZL'
), targets AS (
    SELECT trade_date,
        CASE WHEN count(log_return) OVER h1w = 5 THEN sum(log_return) OVER h1w END AS target_1w, -- ZL log return over the next 5 trading days (week), roll-adjusted
        CASE WHEN count(log_return) OVER h1m = 21 THEN sum(log_return) OVER h1m END AS target_1m, -- ZL log return over the next 21 trading days (month), roll-adjusted
        CASE WHEN count(log_return) OVER h3m = 63 THEN sum(log_return) OVER h3m END AS target_3m, -- ZL log return over the next 63 trading days (3 months), roll-adjusted
        CASE WHEN count(log_return) OVER h6m = 126 THEN sum(log_return) OVER h6m END AS target_6m, -- ZL log return over the next 126 trading days (6 months), roll-adjusted
        lead(trade_date, 5) OVER w AS target_end_1w, -- the trading day target_1w ends on (purging and embargo use it)
        lead(trade_date, 21) OVER w AS target_end_1m, -- the trading day target_1m ends on (purging and embargo use it)
        lead(trade_date, 63) OVER w AS target_end_3m, -- the trading day target_3m ends on (purging and embargo use it)
        lead(trade_date, 126) OVER w AS target_end_6m -- the trading day target_6m ends on (purging and embargo use it)
    FROM r
    WINDOW w AS (ORDER BY trade_date),
           h1w AS (ORDER BY trade_date ROWS BETWEEN 1 FOLLOWING AND 5 FOLLOWING),
           h1m AS (ORDER BY trade_date ROWS BETWEEN 1 FOLLOWING AND 21 FOLLOWING),
           h3m AS (ORDER BY trade_date ROWS BETWEEN 1 FOLLOWING AND 63 FOLLOWING),
           h6m AS (ORDER BY trade_date ROWS BETWEEN 1 FOLLOWING AND 126 FOLLOWING)
)
SELECT c.*, b.* EXCLUDE (trade_date), t.* EXCLUDE (trade_date)
FROM features.core_macro_fx c
JOIN features.bucket_inputs b USING (trade_date)
JOIN targets t USING (trade_date)
ORDER BY trade_date;
