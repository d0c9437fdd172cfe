-- features.core_macro_fx: the ~50 base features every bucket inherits, one row per ZL trading
-- day. Every input is known at the end of trade_date: futures settle that day, FRED values as
-- published by then (features.macro_pit). Slow series enter as changes or spreads rather than
-- raw levels where a level would let a model memorise the calendar. A rolling feature is NULL
-- until its window is full (no 63-day statistic computed from 3 days).
CREATE OR REPLACE TABLE features.core_macro_fx AS
WITH fut AS (
    SELECT trade_date,
        max(close) FILTER (root = 'ZL') AS zl_close,
        max(volume) FILTER (root = 'ZL') AS zl_volume,
        max(log_return) FILTER (root = 'ZL') AS zl_r,
        max(close) FILTER (root = 'ZS') AS zs_close,
        max(log_return) FILTER (root = 'ZS') AS zs_r,
        max(close) FILTER (root = 'ZM') AS zm_close,
        max(log_return) FILTER (root = 'ZM') AS zm_r,
        max(close) FILTER (root = 'HO') AS ho_close,
        max(log_return) FILTER (root = 'HO') AS ho_r,
        max(log_return) FILTER (root = 'CL') AS cl_r,
        max(log_return) FILTER (root = 'HG') AS hg_r,
        max(log_return) FILTER (root = 'ES') AS es_r,
        max(close) FILTER (root = '6L') AS brl_fut,
        max(log_return) FILTER (root = '6L') AS brl_r,
        max(second_month_basis) FILTER (root = '6L') AS brl_basis,
        max(log_return) FILTER (root = '6E') AS eur_r,
        max(log_return) FILTER (root = '6J') AS jpy_r,
        max(log_return) FILTER (root = '6B') AS gbp_r,
        max(log_return) FILTER (root = '6C') AS cad_r,
        max(log_return) FILTER (root = '6S') AS chf_r,
        max(log_return) FILTER (root = '6M') AS mxn_r
    FROM features.futures_returns
    GROUP BY trade_date
), macro AS (
    SELECT trade_date, dff, fed_upper, dgs2, dgs10, t10y2y, t10y3m, nfci, stlfsi4, vix, unrate, cpi_yoy, broad_dollar,
           brl_per_usd, cny_per_usd, mxn_per_usd
    FROM features.macro_wide
), base AS (
    SELECT f.*, m.* EXCLUDE (trade_date),
        -- dollar index proxy from CME FX futures (ICE's DX is not on Globex): DXY weights on
        -- the legs available, sign flipped because the futures quote USD per foreign unit
        -(0.576 * eur_r + 0.136 * jpy_r + 0.119 * gbp_r + 0.091 * cad_r + 0.036 * chf_r) / 0.958 AS dxy_r,
        zm_close * 0.022 + zl_close * 0.11 - zs_close / 100.0 AS board_crush
    FROM fut f JOIN macro m USING (trade_date)
    WHERE f.zl_close IS NOT NULL
), rolled AS (
    SELECT *,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(zl_r) OVER w5 END AS zl_ret_5d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(zl_r) OVER w21 END AS zl_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(zl_r) OVER w63 END AS zl_ret_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN stddev_samp(zl_r) OVER w21 * sqrt(252) END AS zl_vol_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN stddev_samp(zl_r) OVER w63 * sqrt(252) END AS zl_vol_63d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(brl_r) OVER w5 END AS brl_ret_5d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(brl_r) OVER w21 END AS brl_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(brl_r) OVER w63 END AS brl_ret_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN stddev_samp(brl_r) OVER w21 * sqrt(252) END AS brl_vol_21d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(dxy_r) OVER w5 END AS dxy_ret_5d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(dxy_r) OVER w21 END AS dxy_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(dxy_r) OVER w63 END AS dxy_ret_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN stddev_samp(dxy_r) OVER w21 * sqrt(252) END AS dxy_vol_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(zl_r, brl_r) OVER w63) END AS corr_zl_brl_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(zl_r, dxy_r) OVER w63) END AS corr_zl_dxy_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(eur_r) OVER w21 END AS eur_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(mxn_r) OVER w21 END AS mxn_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(zs_r) OVER w21 END AS zs_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(zm_r) OVER w21 END AS zm_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(cl_r) OVER w21 END AS cl_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(ho_r) OVER w21 END AS ho_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(hg_r) OVER w21 END AS hg_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(hg_r) OVER w63 END AS hg_ret_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(es_r) OVER w21 END AS es_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN avg(board_crush) OVER w63 END AS crush_mean_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN stddev_samp(board_crush) OVER w63 END AS crush_sd_63d,
        lag(board_crush, 21) OVER w AS crush_21d_ago,
        lag(dff, 63) OVER w AS dff_63d_ago,
        lag(dgs10, 21) OVER w AS dgs10_21d_ago,
        lag(vix, 5) OVER w AS vix_5d_ago,
        lag(cny_per_usd, 21) OVER w AS cny_21d_ago,
        lag(broad_dollar, 21) OVER w AS broad_dollar_21d_ago,
        features.log_ratio(zl_close, brl_fut) AS tot,
        avg(ln(greatest(zl_volume, 1))) OVER w63 AS zl_log_volume_mean_63d
    FROM base
    WINDOW w AS (ORDER BY trade_date),
           w5 AS (ORDER BY trade_date ROWS BETWEEN 4 PRECEDING AND CURRENT ROW),
           w21 AS (ORDER BY trade_date ROWS BETWEEN 20 PRECEDING AND CURRENT ROW),
           w63 AS (ORDER BY trade_date ROWS BETWEEN 62 PRECEDING AND CURRENT ROW)
)
SELECT
    trade_date,
    -- FX (16)
    brl_ret_5d,            -- BRL (6L futures, USD per BRL) log return, 1 week
    brl_ret_21d,           -- ... 1 month
    brl_ret_63d,           -- ... 3 months
    brl_vol_21d,           -- BRL realised volatility, annualised, 1 month
    dxy_ret_5d,            -- dollar index proxy (DXY weights on CME FX futures) log return, 1 week
    dxy_ret_21d,           -- ... 1 month
    dxy_ret_63d,           -- ... 3 months
    dxy_vol_21d,           -- dollar proxy realised volatility, 1 month
    corr_zl_brl_63d,       -- rolling correlation of ZL and BRL daily returns, 3 months
    corr_zl_dxy_63d,       -- rolling correlation of ZL and dollar-proxy returns, 3 months
    tot AS terms_of_trade, -- ln(ZL / 6L): soybean oil priced in BRL terms (NULL if 6L missing or 0)
    tot - lag(tot, 21) OVER (ORDER BY trade_date) AS terms_of_trade_chg_21d, -- change in terms_of_trade over a month
    -12.0 * brl_basis AS brl_rate_differential, -- annualised 6L carry (second over front month): BRL-USD rate gap by covered interest parity
    features.log_ratio(cny_per_usd, cny_21d_ago) AS cny_ret_21d,  -- CNY per USD (FRED H.10), 1 month
    mxn_ret_21d,           -- MXN (6M futures) log return, 1 month
    eur_ret_21d,           -- EUR (6E futures) log return, 1 month
    -- macro (12)
    dff AS fed_funds_effective,                 -- effective fed funds rate, %
    fed_upper AS fed_target_upper,              -- target range upper limit, %
    dff - dff_63d_ago AS fed_funds_chg_63d,     -- 3-month change in the effective rate, points
    t10y2y AS curve_2s10s,                      -- 10y minus 2y Treasury, points
    t10y3m AS curve_3m10y,                      -- 10y minus 3m Treasury, points
    dgs10 - dgs10_21d_ago AS dgs10_chg_21d,     -- 1-month change in the 10y yield, points
    nfci,                                       -- Chicago Fed financial conditions (weekly, as published)
    stlfsi4,                                    -- St. Louis Fed financial stress (weekly, as published)
    vix,                                        -- CBOE VIX close (as published)
    vix - vix_5d_ago AS vix_chg_5d,             -- 1-week change in VIX
    unrate,                                     -- unemployment rate (monthly, as published)
    cpi_yoy,                                    -- CPI log change over 12 months, as known then
    -- price / volume (3)
    zl_close,                                   -- ZL front-month close, cents/lb
    ln(greatest(zl_volume, 1)) AS zl_log_volume,           -- log front-month volume
    ln(greatest(zl_volume, 1)) - zl_log_volume_mean_63d AS zl_volume_surprise, -- log volume vs its 3-month mean
    -- cross-asset (5)
    board_crush,                                -- ZM*0.022 + ZL*0.11 - ZS/100, $/bu
    features.safe_div(zl_close * 0.11, zl_close * 0.11 + zm_close * 0.022) AS oil_share, -- oil's share of crush product value
    zl_close / 100.0 * 7.5 - ho_close AS boho_spread,       -- soybean oil ($/gal at 7.5 lb/gal) minus heating oil ($/gal)
    hg_ret_21d,                                 -- copper (China demand proxy) log return, 1 month
    features.log_ratio(broad_dollar, broad_dollar_21d_ago) AS broad_dollar_chg_21d, -- FRED broad dollar, 1 month (as published)
    -- ZL dynamics and related markets
    zl_r AS zl_ret_1d,                          -- ZL roll-adjusted log return that day (a roll day's gap removed)
    zl_ret_5d,                                  -- ZL roll-adjusted log return, 1 week
    zl_ret_21d,                                 -- ZL roll-adjusted log return, 1 month
    zl_ret_63d,                                 -- ZL roll-adjusted log return, 3 months
    zl_vol_21d,                                 -- ZL realised volatility over 21 sessions, annualised
    zl_vol_63d,                                 -- ZL realised volatility over 63 sessions, annualised (the baselines' scale)
    features.safe_div(board_crush - crush_mean_63d, crush_sd_63d) AS crush_z_63d, -- crush margin z-score vs 3 months
    board_crush - crush_21d_ago AS crush_chg_21d, -- board crush margin change over a month, $/bu
    zs_ret_21d,                                 -- soybeans log return, 1 month
    zm_ret_21d,                                 -- soybean meal log return, 1 month
    cl_ret_21d,                                 -- WTI crude log return, 1 month
    ho_ret_21d,                                 -- heating oil log return, 1 month
    hg_ret_63d,                                 -- copper log return, 3 months
    es_ret_21d                                  -- S&P 500 futures log return, 1 month
FROM rolled
ORDER BY trade_date;
