"""Risk assets: risk/monte_carlo_scenarios (table forecasts.monte_carlo_scenarios) and
risk/risk_metrics (forecasts.risk_metrics) with the VaR and ES backtests as checks; the logic is
lib.risk.assessment."""

from pathlib import Path
from typing import Optional

import dagster as dg
from pydantic import Field

from cbi_platform.defs.checks import reported, specs
from cbi_platform.defs.conditions import on_upstream_update
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.resources import PlatformConfig, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib.config import configured_horizons, load_sources
from cbi_platform.lib.display import DOLLARS, PERCENT, data_mode_banner, in_horizon_order, markdown
from cbi_platform.lib.quality import Check

RISK_KEY = dg.AssetKey(["risk", "risk_metrics"])
SCENARIOS_KEY = dg.AssetKey(["risk", "monte_carlo_scenarios"])
PREDICTIONS_KEY = dg.AssetKey(["forecasts", "zl_predictions"])
HORIZON_NAMES = list(configured_horizons(SETTINGS.config_dir))  # the checks are declared when definitions load
BACKTEST_CHECKS = [Check.reported(
    f"var_backtest_{h}", f"VaR99 backtest at {h} on non-overlapping forecasts: Basel green passes, yellow warns, red "
                         f"fails; fewer than 100 observations (no exceedance expected) warns as insufficient evidence "
                         f"(Kupiec and Christoffersen p-values in metadata)", blocking=False)
    for h in HORIZON_NAMES] + [Check.reported(
        f"var_dq_{h}", f"Engle-Manganelli dynamic quantile test of VaR95 at {h} on non-overlapping forecasts (4 lagged "
                       f"hits and the VaR level): p >= 1% passes; fewer than 10 expected exceedances warns as "
                       f"insufficient evidence", blocking=False)
    for h in HORIZON_NAMES] + [Check.reported(
        f"es_backtest_{h}", f"Acerbi-Szekely Z2 test of ES99 at {h} on non-overlapping forecasts, p-value by redrawing "
                            f"outcomes from each day's forecast distribution: p >= 1% passes; fewer than 5 expected "
                            f"exceedances warns as insufficient evidence", blocking=False)
    for h in HORIZON_NAMES]
RISK_CHECKS = [
    Check.reported("var_ordered", "0 < VaR95 <= VaR99 and VaR <= CVaR at each level, all finite"),
    Check.reported("scenarios_match_quantiles", "Monte Carlo VaR agrees with the quantile function within sampling error"),
    *BACKTEST_CHECKS,
]


class RiskConfig(dg.Config):
    scenarios: Optional[int] = Field(default=None, gt=0, description="Monte Carlo draws per horizon; unset: "
                                                                     "config/risk.yaml (10,000 by default)")
    position_contracts: Optional[float] = Field(default=None, description="signed ZL contracts (0: flat); unset: "
                                                                          "config/risk.yaml")

    def resolved(self, settings: dict) -> tuple[float, int]:
        """(position contracts, scenarios): this run's, else config/risk.yaml's. Flat (0) is a position."""
        position = float(settings["position"]["contracts"]) if self.position_contracts is None else self.position_contracts
        return position, int(settings["scenarios"]) if self.scenarios is None else self.scenarios


@dg.multi_asset(
    specs=[
        dg.AssetSpec(SCENARIOS_KEY, deps=[PREDICTIONS_KEY],
                     description="Monte Carlo scenarios of the latest ZL forecast: inverse-CDF draws from each horizon's "
                                 "quantile function with shared uniforms across horizons (a comonotone copula).",
                     group_name="risk", kinds={"python", "numpy"}, owners=["team:risk"],
                     automation_condition=on_upstream_update()),
        dg.AssetSpec(RISK_KEY, deps=[PREDICTIONS_KEY],
                     description="VaR and CVaR at 95% and 99% per forecast and horizon: in log return, in price, in USD per "
                                 "ZL contract (60,000 lb) and for the configured position; live and backtest forecasts, "
                                 "with VaR backtests (exceedances, Kupiec, Christoffersen, Basel traffic light).",
                     group_name="risk", kinds={"python", "duckdb"}, owners=["team:risk"],
                     automation_condition=on_upstream_update()),
    ],
    check_specs=specs(RISK_KEY, RISK_CHECKS),
    pool=WAREHOUSE_POOL,
)
def zl_risk(context: dg.AssetExecutionContext, config: RiskConfig, warehouse: Warehouse, platform: PlatformConfig):
    import pandas as pd

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.config import load_yaml
    from cbi_platform.lib.risk.assessment import assess, outcomes
    from cbi_platform.lib.risk.metrics import ContractTerms

    settings = load_yaml(Path(platform.config_dir) / "risk.yaml")
    position, scenarios = config.resolved(settings)
    spec = load_sources(Path(platform.config_dir)).symbol(settings["position"]["root"])
    contract = ContractTerms(spec.root, spec.contract_size, 0.01 if spec.units.startswith("cents") else 1.0)
    horizons = configured_horizons(Path(platform.config_dir))
    with warehouse.get_connection() as conn:
        predictions = conn.execute("SELECT * FROM forecasts.zl_predictions ORDER BY as_of_date").df()
        targets = conn.execute("SELECT * FROM features.zl_daily_matrix").df().set_index("trade_date")
        realised = {h: targets[f"target_{h}"].rename(index=lambda d: pd.Timestamp(d).date()) for h in horizons}
        predictions["as_of_date"] = pd.to_datetime(predictions["as_of_date"]).dt.date
        assessment = assess(predictions, realised, horizons, contract, position,
                            scenarios, int(settings["seed"]))
        wh.replace_rows(conn, "forecasts.risk_metrics", assessment.metrics)
        wh.replace_rows(conn, "forecasts.monte_carlo_scenarios", assessment.draws)

    shown = in_horizon_order(assessment.latest.reset_index()[
        ["horizon", "var95_return", "cvar95_return", "var99_return", "cvar99_return", "var95_usd", "var99_usd",
         "position_var99_usd"]], horizons)
    money = {c: PERCENT for c in ("var95_return", "cvar95_return", "var99_return", "cvar99_return")} | {
        c: DOLLARS for c in ("var95_usd", "var99_usd", "position_var99_usd")}
    yield dg.MaterializeResult(asset_key=SCENARIOS_KEY,
                               metadata={"dagster/row_count": int(len(assessment.draws)),
                                         "as_of_date": str(assessment.latest_day),
                                         "scenarios_per_horizon": assessment.scenarios,
                                         "sample_var_cvar": dg.MetadataValue.json(assessment.scenario_summary)})
    yield dg.MaterializeResult(asset_key=RISK_KEY,
                               metadata={"latest_var": dg.MetadataValue.md(
                                   f"{data_mode_banner(platform.data_mode)}\n\nLosses as positive numbers; VaR in log return "
                                   f"and in dollars per contract and for the position.\n\n{markdown(shown, formats=money)}"),
                                         "position_contracts": position,
                                         "tail_assumption": assessment.metrics["tail_assumption"].iloc[0],
                                         "backtests": dg.MetadataValue.md(markdown(assessment.backtest_table(), floatfmt=".3f")),
                                         "dagster/row_count": int(len(assessment.metrics))})
    yield from reported(RISK_CHECKS, outcomes(assessment), RISK_KEY)
