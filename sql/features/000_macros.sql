-- Guarded arithmetic used by every feature: a zero, negative or missing input gives NULL,
-- never Inf or NaN (prices can be missing; a log of a non-positive ratio is undefined).
CREATE OR REPLACE MACRO features.safe_div(a, b) AS CASE WHEN b IS NOT NULL AND b <> 0 THEN a / b END;
CREATE OR REPLACE MACRO features.log_ratio(a, b) AS CASE WHEN a > 0 AND b > 0 THEN ln(a / b) END;
CREATE OR REPLACE MACRO features.finite(x) AS CASE WHEN isfinite(x) THEN x END;
