-- Risk in price terms and for the configured position (config/risk.yaml).
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS var95_price DOUBLE;       -- price at which a long contract loses VaR95
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS var99_price DOUBLE;
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS position_contracts DOUBLE; -- signed: negative is short
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS position_var95_usd DOUBLE;
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS position_var99_usd DOUBLE;
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS position_cvar95_usd DOUBLE;
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS position_cvar99_usd DOUBLE;
ALTER TABLE forecasts.risk_metrics ADD COLUMN IF NOT EXISTS realised_return DOUBLE;   -- the outcome, once known (backtests)
