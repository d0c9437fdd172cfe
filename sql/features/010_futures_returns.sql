-- features.futures_returns: one row per root and trading day of the continuous front month,
-- with a roll-adjusted log return (a return across a roll is the return of one contract).
--
--   roll_method = 'none'          same contract as the previous day: ln(close / previous close)
--   roll_method = 'second_month'  the front rolled and the new front was yesterday's second
--                                 month: ln(close / yesterday's second-month close)
--   roll_method = 'change'        vendor CSV with a Change column (the same contract's change):
--                                 ln(settle / (settle - change)), right across rolls too
--   roll_method = 'gap_removed'   a roll without the new contract's previous price (vendor CSV
--                                 without Change, detected by open interest migrating, or a
--                                 skipped month): the day's return is set to 0, so the roll gap
--                                 never enters a feature or a target
CREATE OR REPLACE TABLE features.futures_returns AS
WITH front AS (
    SELECT root, trade_date, instrument_id, close, volume, change, prev_day_open_interest
    FROM raw.futures_ohlcv_1d WHERE rank = 0
), second AS (
    SELECT root, trade_date, instrument_id AS second_id, close AS second_close
    FROM raw.futures_ohlcv_1d WHERE rank = 1
), joined AS (
    SELECT f.*, s.second_id, s.second_close,
           lag(f.instrument_id) OVER w AS prev_id,
           lag(f.close) OVER w AS prev_close,
           lag(s.second_id) OVER w AS prev_second_id,
           lag(s.second_close) OVER w AS prev_second_close,
           lag(f.prev_day_open_interest) OVER w AS prev_oi
    FROM front f LEFT JOIN second s USING (root, trade_date)
    WINDOW w AS (PARTITION BY f.root ORDER BY f.trade_date)
), classified AS (
    SELECT *,
        CASE
            WHEN prev_close IS NULL THEN 'first'
            WHEN instrument_id IS NOT NULL AND instrument_id = prev_id THEN 'none'
            WHEN instrument_id IS NOT NULL AND instrument_id = prev_second_id THEN 'second_month'
            WHEN instrument_id IS NOT NULL THEN 'gap_removed'
            WHEN change IS NOT NULL AND close - change > 0 THEN 'change'
            -- vendor CSV: open interest of the front jumps when a new contract becomes the front
            WHEN prev_oi > 0 AND prev_day_open_interest > 0
                 AND (prev_day_open_interest / prev_oi > 1.6 OR prev_day_open_interest / prev_oi < 0.6) THEN 'gap_removed'
            ELSE 'none'
        END AS roll_method
    FROM joined
)
SELECT root, trade_date, instrument_id, close, volume,
       roll_method,
       roll_method IN ('second_month', 'gap_removed') AS is_roll,
       CASE roll_method
           WHEN 'none' THEN features.log_ratio(close, prev_close)
           WHEN 'second_month' THEN features.log_ratio(close, prev_second_close)
           WHEN 'change' THEN features.log_ratio(close, close - change)
           WHEN 'gap_removed' THEN 0.0
       END AS log_return,
       features.log_ratio(close, prev_close) AS raw_log_return,
       features.log_ratio(second_close, close) AS second_month_basis
FROM classified;

-- features.roll_calendar: every roll of every root, with how its return was adjusted and the
-- raw gap a naive continuous series would have shown.
CREATE OR REPLACE TABLE features.roll_calendar AS
SELECT root, trade_date, instrument_id, roll_method,
       raw_log_return AS raw_gap, log_return AS adjusted_return
FROM features.futures_returns
WHERE is_roll;
