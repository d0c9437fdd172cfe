"""Forecast and risk assets: forecasts/zl_predictions, forecasts/monte_carlo_scenarios,
forecasts/risk_metrics."""


from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.resources import SourceResource, Warehouse
from cbi_platform.lib import quality
from cbi_platform.lib.config import load_sources
from cbi_platform.lib.tables import markdown

PUBLISHED_MODEL = ("models/zl_main", "zl_main")


class RiskConfig(dg.Config):
    scenarios: int = 10_000
    seed: int = 20240101


def _horizons(sources: SourceResource) -> dict[str, int]:
    from cbi_platform.lib.ml.train import load_training_config

    return load_training_config(Path(sources.config_dir), "fast").horizons


@dg.asset(
    key=["forecasts", "zl_predictions"],
    deps=[dg.AssetKey(["models", "zl_main"]), dg.AssetKey(["features", "zl_daily_matrix"])],
    description=(
        "ZL forecasts of forward log returns, P10/P50/P90 (and P5/P95) per horizon, calibrated so the P10-P90 "
        "interval covers 80%. kind='live': days whose outcome is not known yet (the latest is tomorrow's "
        "forecast); kind='backtest': walk-forward forecasts, each from a model trained before its date."
    ),
    group_name="forecasts",
    kinds={"python", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(dg.AssetKey(["forecasts", "zl_predictions"]), [
        ("quantiles_ordered", "P5 <= P10 <= P50 <= P90 <= P95 on every row, all finite", True),
        ("latest_forecast_present", "A live forecast exists for the latest trading day, every horizon", True),
    ]),
)
def zl_predictions(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.forecast import model_forecasts
    from cbi_platform.lib.ml.quantiles import QCOLS

    model_asset, model = PUBLISHED_MODEL
    with warehouse.get_connection() as conn:
        matrix = conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()
        frame = model_forecasts(conn, matrix, model_asset, model, _horizons(sources), sources.mode)
        wh.replace_rows(conn, "forecasts.zl_predictions", frame)
    latest_day = pd.Timestamp(matrix["trade_date"].max()).date()
    latest = frame[(frame["kind"] == "live") & (frame["as_of_date"] == latest_day)]
    ordered = quality.quantiles_ordered(frame, QCOLS)
    present = quality.CheckOutcome(
        "latest_forecast_present", set(latest["horizon"]) == set(_horizons(sources)),
        "a live forecast for the latest trading day at every horizon",
        metadata={"latest_trading_day": str(latest_day), "horizons": sorted(latest["horizon"])},
    )
    shown = latest[["horizon", "target_date", "last_price", "p10_price", "p50_price", "p90_price", "model_version"]]
    return dg.MaterializeResult(
        metadata={
            "latest_forecast": dg.MetadataValue.md(markdown(shown, floatfmt=".2f")),
            "as_of_date": str(latest_day),
            "data_mode": sources.mode,
            "dagster/row_count": int(len(frame)),
        },
        check_results=[to_result(ordered), to_result(present)],
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["forecasts", "monte_carlo_scenarios"], deps=[dg.AssetKey(["forecasts", "zl_predictions"])],
                     description="Monte Carlo scenarios of the latest ZL forecast: inverse-CDF draws from each horizon's "
                                 "quantile function, shared uniforms across horizons.",
                     group_name="risk", kinds={"python", "numpy"}, owners=["team:risk"]),
        dg.AssetSpec(["forecasts", "risk_metrics"], deps=[dg.AssetKey(["forecasts", "zl_predictions"])],
                     description="VaR and CVaR at 95% and 99% per forecast and horizon, in log return and in USD per "
                                 "ZL contract (60,000 lb), for live and backtest forecasts.",
                     group_name="risk", kinds={"python", "duckdb"}, owners=["team:risk"]),
    ],
    check_specs=specs(dg.AssetKey(["forecasts", "risk_metrics"]), [
        ("var_ordered", "0 < VaR95 <= VaR99 and VaR <= CVaR at each level, all finite", True),
        ("scenarios_match_quantiles", "Monte Carlo VaR agrees with the quantile function within sampling error", True),
    ]),
    pool=WAREHOUSE_POOL,
)
def zl_risk(context: dg.AssetExecutionContext, config: RiskConfig, warehouse: Warehouse, sources: SourceResource):
    import numpy as np
    import pandas as pd

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.risk.metrics import Contract, fit_tails, risk_rows, scenario_set

    spec = load_sources(Path(sources.config_dir)).symbol("ZL")
    contract = Contract("ZL", spec.contract_size, 0.01 if spec.units.startswith("cents") else 1.0)
    with warehouse.get_connection() as conn:
        predictions = conn.execute("SELECT * FROM forecasts.zl_predictions ORDER BY as_of_date").df()
        targets = conn.execute("SELECT * FROM features.zl_daily_matrix").df().set_index("trade_date")
        realised = {h: targets[f"target_{h}"].rename(index=lambda d: pd.Timestamp(d).date()) for h in _horizons(sources)}
        predictions["as_of_date"] = pd.to_datetime(predictions["as_of_date"]).dt.date
        tails = fit_tails(predictions[predictions["kind"] == "backtest"], realised)
        metrics = risk_rows(predictions, tails, contract)
        metrics["scenarios"] = config.scenarios
        latest_day = predictions.loc[predictions["kind"] == "live", "as_of_date"].max()
        latest = predictions[(predictions["kind"] == "live") & (predictions["as_of_date"] == latest_day)]
        draws, summary = scenario_set(latest, tails, config.scenarios, config.seed)
        wh.replace_rows(conn, "forecasts.risk_metrics", metrics)
        wh.replace_rows(conn, "forecasts.monte_carlo_scenarios", draws)

    values = metrics[[c for c in metrics.columns if c.startswith(("var", "cvar"))]].to_numpy(dtype=float)
    ordered = bool(np.all(np.isfinite(values))) and bool(
        ((metrics["var95_return"] <= metrics["var99_return"]) & (metrics["var95_return"] <= metrics["cvar95_return"])
         & (metrics["var99_return"] <= metrics["cvar99_return"])).all())
    live = metrics[(metrics["kind"] == "live") & (metrics["as_of_date"] == latest_day)].set_index("horizon")
    # sampling error of an empirical 1% quantile is ~sqrt(p(1-p)/n)/density: 5% relative is generous at 10k draws
    tolerance = 0.05 if config.scenarios >= 10_000 else 0.15
    mismatch = {h: {"mc_var99": s["var99"], "analytic_var99": float(live.loc[h, "var99_return"])}
                for h, s in summary.items() if abs(s["var99"] - live.loc[h, "var99_return"]) > tolerance * abs(live.loc[h, "var99_return"])}
    shown = live.reset_index()[["horizon", "var95_return", "cvar95_return", "var99_return", "cvar99_return", "var95_usd", "var99_usd"]]
    yield dg.MaterializeResult(asset_key=["forecasts", "monte_carlo_scenarios"],
                               metadata={"dagster/row_count": int(len(draws)), "as_of_date": str(latest_day),
                                         "scenarios_per_horizon": config.scenarios,
                                         "sample_var_cvar": dg.MetadataValue.json(summary)})
    yield dg.MaterializeResult(asset_key=["forecasts", "risk_metrics"],
                               metadata={"latest_var": dg.MetadataValue.md(markdown(shown, floatfmt=".4g")),
                                         "tail_assumption": metrics["tail_assumption"].iloc[0],
                                         "dagster/row_count": int(len(metrics))})
    yield to_result(quality.CheckOutcome("var_ordered", ordered, "0 < VaR95 <= VaR99, VaR <= CVaR, all finite"),
                    dg.AssetKey(["forecasts", "risk_metrics"]))
    yield to_result(quality.CheckOutcome("scenarios_match_quantiles", not mismatch,
                                         "Monte Carlo VaR99 within sampling error of the analytic VaR99",
                                         metadata={"mismatches": mismatch or "none", "relative_tolerance": tolerance}),
                    dg.AssetKey(["forecasts", "risk_metrics"]))
