-- features.bucket_inputs: every bucket-specific feature, one row per ZL trading day. Each bucket
-- view (features.bucket_<name>) is core_macro_fx plus the columns config/buckets.yaml assigns
-- it. Slow sources are joined on their publication date (as_of_date <= trade_date): a weekly
-- report is visible from its release on, never from the week it describes.
CREATE OR REPLACE TABLE features.bucket_inputs AS
WITH days AS (
    SELECT trade_date FROM features.core_macro_fx
), fut AS (
    SELECT trade_date,
        max(close) FILTER (root = 'ZL') AS zl_close, max(log_return) FILTER (root = 'ZL') AS zl_r,
        max(close) FILTER (root = 'ZS') AS zs_close, max(log_return) FILTER (root = 'ZS') AS zs_r,
        max(close) FILTER (root = 'ZM') AS zm_close, max(log_return) FILTER (root = 'ZM') AS zm_r,
        max(close) FILTER (root = 'CL') AS cl_close, max(log_return) FILTER (root = 'CL') AS cl_r,
        max(close) FILTER (root = 'HO') AS ho_close, max(log_return) FILTER (root = 'HO') AS ho_r,
        max(close) FILTER (root = 'RB') AS rb_close, max(log_return) FILTER (root = 'RB') AS rb_r,
        max(log_return) FILTER (root = 'NG') AS ng_r,
        max(close) FILTER (root = 'BZ') AS bz_close,
        max(log_return) FILTER (root = 'HG') AS hg_r,
        max(log_return) FILTER (root = '6A') AS aud_r,
        max(log_return) FILTER (root = '6C') AS cad_r,
        max(log_return) FILTER (root = '6M') AS mxn_r,
        max(log_return) FILTER (root = '6L') AS brl_r,
        max(log_return) FILTER (root = '6E') AS eur_r,
        max(close) FILTER (root = 'ZQ') AS zq_close,
        max(second_month_basis) FILTER (root = 'ZL') AS zl_basis,
        max(second_month_basis) FILTER (root = 'ZS') AS zs_basis,
        max(second_month_basis) FILTER (root = 'ZM') AS zm_basis
    FROM features.futures_returns GROUP BY trade_date
), macro AS (
    SELECT trade_date, cny_per_usd, ovx, vix, stlfsi4, nfci, fed_upper, effr, dgs2, t10y2y FROM features.macro_wide
), zl_stats AS (   -- settlement, volume, open interest: published the next morning
    SELECT as_of_date, sum(open_interest) AS zl_open_interest,
           max(open_interest) FILTER (rank = 1) / nullif(sum(open_interest), 0) AS zl_oi_second_share
    FROM raw.futures_statistics_1d WHERE root = 'ZL' GROUP BY as_of_date
), atm AS (        -- ZL at-the-money implied volatility from the nearest option expiry >= 14 days
    SELECT b.trade_date, d.expiration, d.strike,
           max(b.close) FILTER (d.option_type = 'C') AS call, max(b.close) FILTER (d.option_type = 'P') AS put
    FROM raw.options_ohlcv_1d b
    JOIN (SELECT DISTINCT instrument_id, option_type, strike, expiration FROM raw.options_definitions
          WHERE parent = 'ZL.OPT') d USING (instrument_id)
    WHERE d.expiration >= b.trade_date + 14
    GROUP BY ALL
), atm_best AS (
    SELECT trade_date, expiration, strike + call - put AS forward, call + put AS straddle,
           (expiration - trade_date) / 365.0 AS years,
           row_number() OVER (PARTITION BY trade_date ORDER BY expiration, abs(call - put), strike) AS pick
    FROM atm WHERE call IS NOT NULL AND put IS NOT NULL
), iv AS (   -- Brenner-Subrahmanyam: ATM straddle ~ 0.7979 F sigma sqrt(T)
    SELECT trade_date, features.safe_div(straddle, 0.7979 * forward * sqrt(years)) AS zl_atm_iv
    FROM atm_best WHERE pick = 1 AND forward > 0
), cot AS (
    SELECT as_of_date, root,
           (managed_money_long - managed_money_short)::DOUBLE / nullif(open_interest_all, 0) AS mm_net_share,
           (prod_merc_long - prod_merc_short)::DOUBLE / nullif(open_interest_all, 0) AS commercial_net_share
    FROM raw.cftc_cot
), cot_wide AS (
    SELECT as_of_date,
        max(mm_net_share) FILTER (root = 'ZL') AS zl_mm_net_share,
        max(commercial_net_share) FILTER (root = 'ZL') AS zl_commercial_net_share,
        max(mm_net_share) FILTER (root = 'ZS') AS zs_mm_net_share,
        max(mm_net_share) FILTER (root = 'CL') AS cl_mm_net_share
    FROM cot GROUP BY as_of_date
), cot_dynamics AS (
    SELECT *, zl_mm_net_share - lag(zl_mm_net_share, 4) OVER (ORDER BY as_of_date) AS zl_mm_net_change_4w,
           features.safe_div(zl_mm_net_share - avg(zl_mm_net_share) OVER w52, stddev_samp(zl_mm_net_share) OVER w52) AS zl_mm_net_z_52w
    FROM cot_wide WINDOW w52 AS (ORDER BY as_of_date ROWS BETWEEN 51 PRECEDING AND CURRENT ROW)
), rin_weekly AS (  -- one price per week and D code: the mean over RIN years and QAP types (no volumes to weight by)
    SELECT week_start, max(as_of_date) AS as_of_date,
           avg(price) FILTER (d_code = 'D4') AS rin_d4, avg(price) FILTER (d_code = 'D6') AS rin_d6,
           avg(price) FILTER (d_code = 'D5') AS rin_d5, avg(price) FILTER (d_code = 'D3') AS rin_d3
    FROM raw.epa_rin_prices GROUP BY week_start
), rin AS (
    SELECT as_of_date, rin_d4, rin_d6, rin_d5, rin_d3,
           features.log_ratio(rin_d4, lag(rin_d4, 4) OVER w) AS rin_d4_mom_4w,
           features.log_ratio(rin_d6, lag(rin_d6, 4) OVER w) AS rin_d6_mom_4w,
           features.log_ratio(rin_d4, lag(rin_d4, 1) OVER w) AS rin_d4_chg_1w,
           features.safe_div(rin_d4 - avg(rin_d4) OVER w52, stddev_samp(rin_d4) OVER w52) AS rin_d4_z_52w
    FROM rin_weekly
    WINDOW w AS (ORDER BY week_start), w52 AS (ORDER BY week_start ROWS BETWEEN 51 PRECEDING AND CURRENT ROW)
), china_weekly AS (  -- China soybean net sales against the configured seasonal norm (config/sources/usda_esr.yaml)
    SELECT s.week_ending, max(s.as_of_date) AS as_of_date,
           sum(s.current_my_net_sales) AS china_soy_net_sales,
           sum(s.outstanding_sales) AS china_soy_outstanding,
           sum(s.weekly_exports) AS china_soy_exports
    FROM raw.usda_export_sales s
    WHERE s.commodity_code = 801 AND s.country_code = 5700
    GROUP BY s.week_ending
), china AS (
    SELECT c.as_of_date, c.china_soy_net_sales, c.china_soy_outstanding,
           (c.china_soy_net_sales - n.norm_t) / n.scale_t AS china_soy_surprise,
           sum(c.china_soy_exports) OVER (ORDER BY c.week_ending ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS china_soy_exports_4w
    FROM china_weekly c JOIN features.config_china_norm n USING (week_ending)
), china_decay AS (
    SELECT *, sum(china_soy_surprise) OVER (ORDER BY as_of_date ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS china_surprise_4w
    FROM china
), all_soy AS (
    SELECT week_ending, max(as_of_date) AS as_of_date, sum(current_my_net_sales) AS soy_net_sales_all
    FROM raw.usda_export_sales WHERE commodity_code = 801 GROUP BY week_ending
), all_soy_4w AS (
    SELECT as_of_date, sum(soy_net_sales_all) OVER (ORDER BY week_ending ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS soy_net_sales_4w
    FROM all_soy
), wasde_rows AS (   -- each release's newest projection and the previous month's, for the same market year
    SELECT release_date AS as_of_date, commodity, region, market_year, attribute, value,
           projection_month = strftime(report_month, '%b') AS is_current,
           projection_month = strftime(report_month - INTERVAL 1 MONTH, '%b') AS is_previous
    FROM raw.usda_wasde
    WHERE market_year_status = 'Proj.' AND region IN ('United States', 'World')
      AND commodity IN ('Soybeans', 'Soybean Oil') AND attribute IN ('Ending Stocks', 'Use, Total', 'Domestic Total')
), wasde_latest_year AS (
    SELECT as_of_date, commodity, region, max(market_year) AS market_year FROM wasde_rows WHERE is_current GROUP BY ALL
), wasde_stu AS (  -- stocks-to-use: ending stocks over total use (world: over domestic use)
    SELECT w.as_of_date, w.commodity, w.region,
           features.safe_div(max(value) FILTER (attribute = 'Ending Stocks' AND is_current),
                             max(value) FILTER (attribute IN ('Use, Total', 'Domestic Total') AND is_current)) AS stu,
           features.safe_div(max(value) FILTER (attribute = 'Ending Stocks' AND is_previous),
                             max(value) FILTER (attribute IN ('Use, Total', 'Domestic Total') AND is_previous)) AS stu_previous
    FROM wasde_rows w JOIN wasde_latest_year y USING (as_of_date, commodity, region, market_year)
    GROUP BY ALL
), wasde AS (
    SELECT as_of_date,
        max(stu) FILTER (commodity = 'Soybeans' AND region = 'United States') AS us_soy_stocks_to_use,
        max(stu - stu_previous) FILTER (commodity = 'Soybeans' AND region = 'United States') AS us_soy_stu_revision,
        max(stu) FILTER (commodity = 'Soybean Oil' AND region = 'United States') AS us_soyoil_stocks_to_use,
        max(stu - stu_previous) FILTER (commodity = 'Soybean Oil' AND region = 'United States') AS us_soyoil_stu_revision,
        max(stu) FILTER (commodity = 'Soybean Oil' AND region = 'World') AS world_soyoil_stocks_to_use
    FROM wasde_stu GROUP BY as_of_date
), eia_weekly AS (
    SELECT period, max(as_of_date) AS as_of_date,
        max(value) FILTER (series_id = 'WCESTUS1') AS crude_stocks,
        max(value) FILTER (series_id = 'WDISTUS1') AS distillate_stocks,
        max(value) FILTER (series_id = 'WGTSTUS1') AS gasoline_stocks,
        max(value) FILTER (series_id = 'WPULEUS3') AS refinery_utilization
    FROM raw.eia_series WHERE frequency = 'weekly' GROUP BY period
), eia_weekly_changes AS (
    SELECT as_of_date, refinery_utilization,
        features.log_ratio(crude_stocks, lag(crude_stocks, 4) OVER w) AS crude_stocks_chg_4w,
        features.log_ratio(distillate_stocks, lag(distillate_stocks, 4) OVER w) AS distillate_stocks_chg_4w,
        features.log_ratio(gasoline_stocks, lag(gasoline_stocks, 4) OVER w) AS gasoline_stocks_chg_4w,
        -- against the same week a year earlier: stocks are strongly seasonal
        features.log_ratio(crude_stocks, lag(crude_stocks, 52) OVER w) AS crude_stocks_yoy
    FROM eia_weekly WINDOW w AS (ORDER BY period)
), eia_monthly AS (
    SELECT period, max(as_of_date) AS as_of_date,
        max(value) FILTER (series_id = 'M_EPOOBDSO_YIFBP_NUS_MMLB') AS soyoil_biofuel_use,
        sum(value) FILTER (series_id IN ('M_EPOORDB_YNP_NUS_MBBLD', 'M_EPOORDO_YNP_NUS_MBBLD')) AS biomass_diesel_output
    FROM raw.eia_series WHERE frequency = 'monthly' GROUP BY period
), eia_monthly_changes AS (
    SELECT as_of_date,
        features.log_ratio(soyoil_biofuel_use, lag(soyoil_biofuel_use, 12) OVER w) AS soyoil_biofuel_use_yoy,
        features.log_ratio(biomass_diesel_output, lag(biomass_diesel_output, 12) OVER w) AS biomass_diesel_output_yoy
    FROM eia_monthly WINDOW w AS (ORDER BY period)
), news_daily AS (  -- items per UTC publication day, by bucket tag
    SELECT as_of_date AS day,
        count(*) FILTER (list_contains(string_split(buckets, ','), 'china')) AS china_n,
        sum(sentiment) FILTER (list_contains(string_split(buckets, ','), 'china')) AS china_s,
        count(*) FILTER (list_contains(string_split(buckets, ','), 'tariff')) AS tariff_n,
        sum(sentiment) FILTER (list_contains(string_split(buckets, ','), 'tariff')) AS tariff_s,
        count(*) FILTER (list_contains(string_split(buckets, ','), 'tariff') AND source = 'federal_register') AS tariff_docs_n,
        count(*) FILTER (list_contains(string_split(buckets, ','), 'fed')) AS fed_n,
        sum(sentiment) FILTER (list_contains(string_split(buckets, ','), 'fed')) AS fed_s,
        count(*) FILTER (list_contains(string_split(buckets, ','), 'biofuel')) AS biofuel_n,
        sum(sentiment) FILTER (list_contains(string_split(buckets, ','), 'biofuel')) AS biofuel_s
    FROM raw.news_items GROUP BY as_of_date
), news AS (   -- trailing sums over the days up to each trading day (no items: zero counts)
    SELECT d.trade_date,
        coalesce(sum(n.china_n) FILTER (n.day > d.trade_date - 7), 0) AS china_news_7d,
        features.safe_div(sum(n.china_s) FILTER (n.day > d.trade_date - 7), sum(n.china_n) FILTER (n.day > d.trade_date - 7)) AS china_news_sentiment_7d,
        coalesce(sum(n.tariff_n) FILTER (n.day > d.trade_date - 7), 0) AS tariff_news_7d,
        coalesce(sum(n.tariff_n), 0) AS tariff_news_30d,
        features.safe_div(sum(n.tariff_s), sum(n.tariff_n)) AS tariff_news_sentiment_30d,
        coalesce(sum(n.tariff_docs_n), 0) AS tariff_register_docs_30d,
        coalesce(sum(n.fed_n) FILTER (n.day > d.trade_date - 7), 0) AS fed_news_7d,
        features.safe_div(sum(n.fed_s), sum(n.fed_n)) AS fed_news_sentiment_30d,
        coalesce(sum(n.biofuel_n), 0) AS biofuel_news_30d,
        features.safe_div(sum(n.biofuel_s), sum(n.biofuel_n)) AS biofuel_news_sentiment_30d
    FROM days d LEFT JOIN news_daily n ON n.day > d.trade_date - 30 AND n.day <= d.trade_date
    GROUP BY d.trade_date
), daily AS (
    SELECT d.trade_date, f.*, m.* EXCLUDE (trade_date),
        f.zm_close * 0.022 + f.zl_close * 0.11 - f.zs_close / 100.0 AS crush,
        -- the second month's board crush, from each leg's second-month basis
        f.zm_close * exp(f.zm_basis) * 0.022 + f.zl_close * exp(f.zl_basis) * 0.11 - f.zs_close * exp(f.zs_basis) / 100.0 AS crush_second,
        features.safe_div(f.zl_close * 0.11, f.zl_close * 0.11 + f.zm_close * 0.022) AS oil_share,
        -- 3-2-1 crack spread, $/bbl: two barrels of gasoline and one of heating oil against three of crude
        (2 * f.rb_close * 42 + f.ho_close * 42 - 3 * f.cl_close) / 3 AS crack_321,
        f.zl_close / 100.0 * 7.5 - f.ho_close AS boho
    FROM days d JOIN fut f USING (trade_date) JOIN macro m USING (trade_date)
), rolled AS (
    SELECT *,
        CASE WHEN count(*) OVER w252 = 252 THEN features.safe_div(crush - avg(crush) OVER w252, stddev_samp(crush) OVER w252) END AS crush_z_252d,
        crush - lag(crush, 5) OVER w AS crush_chg_5d,
        oil_share - lag(oil_share, 21) OVER w AS oil_share_chg_21d,
        CASE WHEN count(*) OVER w252 = 252 THEN features.safe_div(oil_share - avg(oil_share) OVER w252, stddev_samp(oil_share) OVER w252) END AS oil_share_z_252d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(zs_r) OVER w5 END AS zs_ret_5d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(zs_r) OVER w63 END AS zs_ret_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(hg_r, zs_r) OVER w63) END AS corr_hg_zs_63d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(hg_r) OVER w5 END AS hg_ret_5d,
        features.log_ratio(cny_per_usd, lag(cny_per_usd, 63) OVER w) AS cny_ret_63d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(mxn_r) OVER w5 END AS mxn_ret_5d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(mxn_r) OVER w63 END AS mxn_ret_63d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(aud_r) OVER w21 END AS aud_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(cad_r) OVER w21 END AS cad_ret_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(zl_r, aud_r) OVER w63) END AS corr_zl_aud_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(zl_r, cad_r) OVER w63) END AS corr_zl_cad_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(zl_r, mxn_r) OVER w63) END AS corr_zl_mxn_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(brl_r, mxn_r) OVER w63) END AS corr_brl_mxn_63d,
        CASE WHEN count(*) OVER w63 = 63 THEN stddev_samp(brl_r) OVER w63 * sqrt(252) END AS brl_vol_63d,
        fed_upper - lag(fed_upper, 126) OVER w AS fed_target_chg_126d,
        fed_upper - dgs2 AS fed_minus_2y,
        dgs2 - lag(dgs2, 21) OVER w AS dgs2_chg_21d,
        t10y2y - lag(t10y2y, 21) OVER w AS curve_2s10s_chg_21d,
        (100.0 - zq_close) - effr AS fed_funds_futures_spread,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(cl_r) OVER w5 END AS cl_ret_5d,
        CASE WHEN count(*) OVER w63 = 63 THEN sum(cl_r) OVER w63 END AS cl_ret_63d,
        CASE WHEN count(*) OVER w5 = 5 THEN sum(ho_r) OVER w5 END AS ho_ret_5d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(rb_r) OVER w21 END AS rb_ret_21d,
        CASE WHEN count(*) OVER w21 = 21 THEN sum(ng_r) OVER w21 END AS ng_ret_21d,
        crack_321 - lag(crack_321, 21) OVER w AS crack_321_chg_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.finite(corr(cl_r, zl_r) OVER w63) END AS corr_cl_zl_63d,
        features.log_ratio(bz_close, cl_close) AS brent_wti_spread,
        boho - lag(boho, 21) OVER w AS boho_chg_21d,
        CASE WHEN count(*) OVER w63 = 63 THEN features.safe_div(vix - avg(vix) OVER w63, stddev_samp(vix) OVER w63) END AS vix_z_63d,
        vix - lag(vix, 21) OVER w AS vix_chg_21d,
        CASE WHEN count(*) OVER w21 = 21 AND count(*) OVER w63 = 63
             THEN features.safe_div(stddev_samp(zl_r) OVER w21, stddev_samp(zl_r) OVER w63) END AS zl_vol_ratio_21_63,
        stlfsi4 - lag(stlfsi4, 21) OVER w AS stlfsi4_chg_21d,
        nfci - lag(nfci, 21) OVER w AS nfci_chg_21d
    FROM daily
    WINDOW w AS (ORDER BY trade_date),
           w5 AS (ORDER BY trade_date ROWS BETWEEN 4 PRECEDING AND CURRENT ROW),
           w21 AS (ORDER BY trade_date ROWS BETWEEN 20 PRECEDING AND CURRENT ROW),
           w63 AS (ORDER BY trade_date ROWS BETWEEN 62 PRECEDING AND CURRENT ROW),
           w252 AS (ORDER BY trade_date ROWS BETWEEN 251 PRECEDING AND CURRENT ROW)
)
SELECT
    r.trade_date,
    -- crush
    r.crush_z_252d,            -- board crush vs its 1-year mean, in standard deviations
    r.crush_chg_5d,            -- board crush change over a week, $/bu
    r.crush_second - r.crush AS crush_calendar_spread, -- second-month minus front-month board crush, $/bu
    r.oil_share_chg_21d,       -- change in oil's share of crush value over a month
    r.oil_share_z_252d,        -- oil share vs its 1-year mean, standard deviations
    r.zs_ret_5d,               -- soybeans log return, 1 week
    r.zs_ret_63d,              -- soybeans log return, 3 months
    features.log_ratio(r.zm_close * 0.022, r.zl_close * 0.11) AS meal_oil_value_ratio, -- meal vs oil value per bushel crushed
    -- china
    c.china_soy_net_sales,     -- latest weekly China soybean net sales (t), as released
    c.china_soy_surprise,      -- that week's net sales vs the seasonal norm, in norm scale units
    c.china_surprise_4w,       -- sum of the last four weekly surprises
    c.china_soy_outstanding,   -- China soybean outstanding sales (t)
    c.china_soy_exports_4w,    -- China soybean exports over the last four reported weeks (t)
    a.soy_net_sales_4w,        -- all-destination soybean net sales over four weeks (t)
    r.corr_hg_zs_63d,          -- copper-soybean return correlation, 3 months (China demand co-movement)
    r.hg_ret_5d,               -- copper log return, 1 week
    -- fx
    r.cny_ret_63d,             -- CNY per USD log change, 3 months
    r.mxn_ret_5d,              -- MXN (6M) log return, 1 week
    r.mxn_ret_63d,             -- MXN (6M) log return, 3 months
    r.aud_ret_21d,             -- AUD (6A) log return, 1 month
    r.cad_ret_21d,             -- CAD (6C) log return, 1 month
    r.corr_zl_aud_63d,         -- ZL-AUD return correlation, 3 months
    r.corr_zl_cad_63d,         -- ZL-CAD return correlation, 3 months
    r.corr_zl_mxn_63d,         -- ZL-MXN return correlation, 3 months
    r.corr_brl_mxn_63d,        -- BRL-MXN return correlation, 3 months
    r.brl_vol_63d,             -- BRL realised volatility, 3 months
    -- fed
    r.fed_target_chg_126d,     -- change of the target range upper limit over 6 months, points
    r.fed_minus_2y,            -- target upper limit minus the 2-year yield: the cuts or hikes priced
    r.dgs2_chg_21d,            -- 2-year yield change over a month
    r.curve_2s10s_chg_21d,     -- 2s10s change over a month
    r.fed_funds_futures_spread, -- 30-day fed funds futures' implied rate minus the effective rate
    -- biofuel
    rn.rin_d4,                 -- latest published weekly D4 (biomass diesel) RIN price, USD
    rn.rin_d6,                 -- latest published weekly D6 (conventional) RIN price, USD
    rn.rin_d4 - rn.rin_d6 AS rin_d4_d6_spread, -- D4 premium over D6, USD
    rn.rin_d4_mom_4w,          -- D4 log change over the last four published weeks
    rn.rin_d6_mom_4w,          -- D6 log change over the last four published weeks
    rn.rin_d4_chg_1w,          -- D4 log change over the last published week
    rn.rin_d4_z_52w,           -- D4 vs its 1-year mean, standard deviations
    r.boho_chg_21d,            -- BOHO spread change over a month, $/gal
    -- energy
    r.cl_ret_5d,               -- WTI log return, 1 week
    r.cl_ret_63d,              -- WTI log return, 3 months
    r.ho_ret_5d,               -- heating oil log return, 1 week
    r.rb_ret_21d,              -- gasoline log return, 1 month
    r.ng_ret_21d,              -- natural gas log return, 1 month
    r.crack_321,               -- 3-2-1 crack spread, $/bbl
    r.crack_321_chg_21d,       -- crack spread change over a month
    r.corr_cl_zl_63d,          -- WTI-ZL return correlation, 3 months
    r.brent_wti_spread,        -- ln(Brent / WTI)
    -- volatility and positioning
    r.vix_z_63d,               -- VIX vs its 3-month mean, standard deviations
    r.vix_chg_21d,             -- VIX change over a month
    r.ovx,                     -- CBOE crude oil volatility index (as published)
    r.zl_vol_ratio_21_63,      -- ZL realised vol, 1 month over 3 months (vol term structure)
    iv.zl_atm_iv,              -- ZL at-the-money implied volatility (nearest expiry >= 14 days)
    iv.zl_atm_iv - sqrt(252) * stddev_samp(r.zl_r) OVER (ORDER BY r.trade_date ROWS BETWEEN 20 PRECEDING AND CURRENT ROW) AS zl_iv_rv_spread, -- implied minus 1-month realised vol
    r.stlfsi4_chg_21d,         -- financial stress index change over a month
    r.nfci_chg_21d,            -- financial conditions index change over a month
    s.zl_open_interest,        -- ZL open interest, front + second month (published next morning)
    s.zl_oi_second_share,      -- second month's share of that open interest (the roll in progress)
    ct.zl_mm_net_share,        -- ZL managed-money net position, share of open interest (COT, as released)
    ct.zl_mm_net_change_4w,    -- its change over four reports
    ct.zl_mm_net_z_52w,        -- managed-money net share vs its 1-year mean, standard deviations
    ct.zl_commercial_net_share, -- ZL producer/merchant net position, share of open interest
    ct.zs_mm_net_share,        -- ZS managed-money net share of open interest
    ct.cl_mm_net_share,        -- WTI managed-money net share of open interest
    -- WASDE balance sheets (crush)
    wa.us_soy_stocks_to_use,   -- US soybean ending stocks / total use, newest projection (as released)
    wa.us_soy_stu_revision,    -- that ratio's revision against the previous month's projection
    wa.us_soyoil_stocks_to_use, -- US soybean oil ending stocks / total use, newest projection
    wa.us_soyoil_stu_revision, -- its month-on-month revision
    wa.world_soyoil_stocks_to_use, -- world soybean oil ending stocks / domestic use
    -- EIA (energy, biofuel)
    ew.crude_stocks_chg_4w,    -- US crude stocks (ex SPR) log change over four weeks (as released)
    ew.crude_stocks_yoy,       -- US crude stocks against the same week a year earlier
    ew.distillate_stocks_chg_4w, -- distillate stocks log change over four weeks
    ew.gasoline_stocks_chg_4w, -- gasoline stocks log change over four weeks
    ew.refinery_utilization,   -- refinery utilisation, %
    em.soyoil_biofuel_use_yoy, -- soybean oil used as biofuel feedstock, log change over 12 months (monthly, as released)
    em.biomass_diesel_output_yoy, -- biodiesel + renewable diesel output, log change over 12 months
    -- news (counts of items tagged with each bucket; sentiment = mean Loughran-McDonald polarity)
    nw.china_news_7d,          -- China-tagged items, last 7 days
    nw.china_news_sentiment_7d, -- their mean sentiment
    nw.tariff_news_7d,         -- tariff/trade-policy items, last 7 days
    nw.tariff_news_30d,        -- tariff/trade-policy items, last 30 days
    nw.tariff_news_sentiment_30d, -- their mean sentiment
    nw.tariff_register_docs_30d, -- Federal Register tariff documents, last 30 days
    nw.fed_news_7d,            -- Fed/FOMC-tagged items, last 7 days
    nw.fed_news_sentiment_30d, -- their mean sentiment over 30 days
    nw.biofuel_news_30d,       -- biofuel/RIN items, last 30 days
    nw.biofuel_news_sentiment_30d -- their mean sentiment
FROM rolled r
ASOF LEFT JOIN china_decay c ON r.trade_date >= c.as_of_date
ASOF LEFT JOIN all_soy_4w a ON r.trade_date >= a.as_of_date
ASOF LEFT JOIN rin rn ON r.trade_date >= rn.as_of_date
ASOF LEFT JOIN cot_dynamics ct ON r.trade_date >= ct.as_of_date
ASOF LEFT JOIN zl_stats s ON r.trade_date >= s.as_of_date
ASOF LEFT JOIN wasde wa ON r.trade_date >= wa.as_of_date
ASOF LEFT JOIN eia_weekly_changes ew ON r.trade_date >= ew.as_of_date
ASOF LEFT JOIN eia_monthly_changes em ON r.trade_date >= em.as_of_date
LEFT JOIN news nw USING (trade_date)
LEFT JOIN iv USING (trade_date)
ORDER BY r.trade_date;
