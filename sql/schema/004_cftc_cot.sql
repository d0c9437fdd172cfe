-- CFTC Commitments of Traders, Disaggregated report, futures only (cbi_platform/lib/sources/cftc.py):
-- one row per market and weekly report, for the physical commodities with a `cftc_code` in
-- config/sources/symbols.yaml. Markets are keyed by CFTC contract market code, never by name
-- (names change: WTI 067651 was "CRUDE OIL, LIGHT SWEET - ..." in 2021, "WTI-PHYSICAL - ..." in 2023).
-- Positions are numbers of contracts, the report's "All" figures (old and other crop years
-- together). Spreads are one long and one short held by the same trader: they count on both sides,
-- so open_interest_all = every long + every spread = every short + every spread, where "every"
-- includes the non-reportables; total reportable positions are open interest minus non-reportables.
-- A partition holds the reports *released* in its window (as_of_date).
CREATE TABLE IF NOT EXISTS raw.cftc_cot (
    cftc_contract_market_code VARCHAR NOT NULL,  -- '007601': leading zeros kept, padding stripped
    report_date               DATE    NOT NULL,  -- the Tuesday the positions are as of
    as_of_date                DATE    NOT NULL,  -- release: the Friday after, 15:30 ET; the next business
                                                 -- day when that Friday is a US federal holiday
    market_and_exchange_name  VARCHAR NOT NULL,  -- as reported that week (informational, not a key)
    root                      VARCHAR NOT NULL,  -- our futures root for the code (symbols.yaml)
    open_interest_all         BIGINT  NOT NULL,  -- Open_Interest_All
    prod_merc_long            BIGINT  NOT NULL,  -- producer/merchant/processor/user: Prod_Merc_Positions_Long_All
    prod_merc_short           BIGINT  NOT NULL,  -- Prod_Merc_Positions_Short_All
    swap_long                 BIGINT  NOT NULL,  -- swap dealers: Swap_Positions_Long_All
    swap_short                BIGINT  NOT NULL,  -- Swap__Positions_Short_All
    swap_spread               BIGINT  NOT NULL,  -- Swap__Positions_Spread_All
    managed_money_long        BIGINT  NOT NULL,  -- managed money (CTAs, CPOs, funds): M_Money_Positions_Long_All
    managed_money_short       BIGINT  NOT NULL,  -- M_Money_Positions_Short_All
    managed_money_spread      BIGINT  NOT NULL,  -- M_Money_Positions_Spread_All
    other_rept_long           BIGINT  NOT NULL,  -- other reportables: Other_Rept_Positions_Long_All
    other_rept_short          BIGINT  NOT NULL,  -- Other_Rept_Positions_Short_All
    other_rept_spread         BIGINT  NOT NULL,  -- Other_Rept_Positions_Spread_All
    nonrept_long              BIGINT  NOT NULL,  -- non-reportable (small traders): NonRept_Positions_Long_All
    nonrept_short             BIGINT  NOT NULL,  -- NonRept_Positions_Short_All
    ingested_at               TIMESTAMP NOT NULL,
    PRIMARY KEY (cftc_contract_market_code, report_date)
);
