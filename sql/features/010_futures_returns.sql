-- features.futures_returns: one row per root and trading day of the continuous front month,
-- with a roll-adjusted log return (a return across a roll is the return of one contract).
--
--   roll_method = 'none'          same contract as the previous day: ln(close / previous close)
--   roll_method = 'second_month'  the front rolled and the new front was yesterday's second
--                                 month: ln(close / yesterday's second-month close)
--   roll_method = 'gap_removed'   a roll without the new contract's previous price: the day's
--                                 return is set to 0, so the roll gap never enters a feature or
--                                 a target
--
-- Vendor settle CSVs carry no instrument id; roll_evidence says how a roll was found there:
--   'change'         the Change column disagrees with the settle difference by more than half a
--                    tick (| |settle - previous settle| - |change| | > tick / 2). Change may be
--                    signed or unsigned (its magnitude is all that is compared) and may switch
--                    convention part-way through a file.
--   'open_interest'  no Change: each listed contract owns a roll segment of the calendar
--                    (features.config_roll_segments: midpoints between consecutive nominal
--                    expiries), so whatever day the vendor switched on lies in it. Two readings:
--     * as known that day (log_return, is_roll; what features use, point in time): a roll when
--       the day's open-interest move beats max(5%, 8 x its trailing one-year median) and twice
--       every earlier move in the segment;
--     * settled (settled_log_return, settled_is_roll; what targets use, which are unknown until
--       their horizon has passed anyway): the segment's largest move, if above 5%, known once
--       the segment has closed.
--   With instrument ids or a Change column both readings agree.
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
), evidence AS (
    SELECT j.*, seg.nominal_expiry AS roll_segment,
           CASE WHEN j.instrument_id IS NULL AND j.change IS NOT NULL AND j.prev_close IS NOT NULL
                THEN abs(abs(j.close - j.prev_close) - abs(j.change)) > coalesce(sym.tick_size, 0) / 2 + 1e-9
           END AS change_says_roll,
           CASE WHEN j.instrument_id IS NULL AND j.change IS NULL AND j.prev_oi > 0 AND j.prev_day_open_interest > 0
                THEN abs(ln(j.prev_day_open_interest / j.prev_oi))
           END AS open_interest_move
    FROM joined j
    LEFT JOIN features.config_symbols sym USING (root)
    LEFT JOIN features.config_roll_segments seg
           ON seg.root = j.root AND j.trade_date >= seg.segment_start AND j.trade_date < seg.segment_end
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY root, roll_segment ORDER BY open_interest_move DESC NULLS LAST, trade_date)
               AS move_rank,
           -- as known that day: only earlier rows of the segment and of the past year
           max(open_interest_move) OVER (PARTITION BY root, roll_segment ORDER BY trade_date
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_segment_move,
           median(open_interest_move) OVER (PARTITION BY root ORDER BY trade_date
                                            ROWS BETWEEN 250 PRECEDING AND 1 PRECEDING) AS typical_move,
           bool_or(coalesce(change_says_roll, false)) OVER (PARTITION BY root, roll_segment) AS segment_has_change_roll,
           bool_or(coalesce(change_says_roll, false)) OVER (PARTITION BY root, roll_segment ORDER BY trade_date
                                                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS segment_had_change_roll
    FROM evidence
), classified AS (
    SELECT *,
        CASE
            WHEN prev_close IS NULL THEN 'first'
            WHEN instrument_id IS NOT NULL AND instrument_id = prev_id THEN 'none'
            WHEN instrument_id IS NOT NULL AND instrument_id = prev_second_id THEN 'second_month'
            WHEN instrument_id IS NOT NULL THEN 'gap_removed'
            WHEN change_says_roll THEN 'gap_removed'
            WHEN change IS NULL AND roll_segment IS NOT NULL AND NOT segment_had_change_roll
                 AND open_interest_move > greatest(0.05, 8 * coalesce(typical_move, 0.02))
                 AND open_interest_move > 2 * coalesce(earlier_segment_move, 0) THEN 'gap_removed'
            ELSE 'none'
        END AS roll_method,
        CASE
            WHEN prev_close IS NULL THEN 'first'
            WHEN instrument_id IS NOT NULL OR change IS NOT NULL THEN NULL  -- as known that day
            WHEN roll_segment IS NOT NULL AND move_rank = 1 AND open_interest_move > 0.05
                 AND NOT segment_has_change_roll THEN 'gap_removed'
            ELSE 'none'
        END AS settled_override,
        CASE
            WHEN instrument_id IS NOT NULL THEN 'instrument_id'
            WHEN change IS NOT NULL THEN 'change'
            ELSE 'open_interest'
        END AS evidence_kind
    FROM ranked
)
SELECT root,                                                     -- futures root (ZL, CL, ...)
       trade_date,                                               -- trading day of the front month
       instrument_id,                                            -- front contract's id (NULL in vendor CSVs)
       close,                                                    -- settle (or last) price of the front month
       volume,                                                   -- contracts traded
       change AS vendor_change,                                  -- the vendor's Change column as delivered (signed, unsigned or NULL)
       roll_method,                                              -- none, second_month, gap_removed or first
       roll_method IN ('second_month', 'gap_removed') AS is_roll, -- the front contract changed on this day
       CASE WHEN roll_method IN ('second_month', 'gap_removed') THEN evidence_kind END AS roll_evidence, -- instrument_id, change or open_interest
       CASE roll_method
           WHEN 'none' THEN features.log_ratio(close, prev_close)
           WHEN 'second_month' THEN features.log_ratio(close, prev_second_close)
           WHEN 'gap_removed' THEN 0.0
       END AS log_return,                                        -- roll-adjusted log return as known that day (features)
       coalesce(settled_override, roll_method) IN ('second_month', 'gap_removed') AS settled_is_roll, -- the front contract changed, once its roll segment has closed
       CASE coalesce(settled_override, roll_method)
           WHEN 'none' THEN features.log_ratio(close, prev_close)
           WHEN 'second_month' THEN features.log_ratio(close, prev_second_close)
           WHEN 'gap_removed' THEN 0.0
       END AS settled_log_return,                                -- roll-adjusted log return once the segment has closed (targets)
       features.log_ratio(close, prev_close) AS raw_log_return,  -- naive return of the continuous series
       features.log_ratio(second_close, close) AS second_month_basis -- log second month over front
FROM classified;

-- features.roll_calendar: every roll of every root (as known that day, or once settled), with
-- how it was found and adjusted and the raw gap a naive continuous series would have shown.
CREATE OR REPLACE TABLE features.roll_calendar AS
SELECT root, trade_date, instrument_id, roll_method, coalesce(roll_evidence, 'open_interest') AS roll_evidence,
       is_roll AS known_that_day, settled_is_roll AS settled,
       raw_log_return AS raw_gap, log_return AS adjusted_return
FROM features.futures_returns
WHERE is_roll OR settled_is_roll;
