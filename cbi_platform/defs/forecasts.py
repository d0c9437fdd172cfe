"""Forecast and risk assets: forecasts/zl_predictions, risk/monte_carlo_scenarios (table
forecasts.monte_carlo_scenarios), risk/risk_metrics (forecasts.risk_metrics),
forecasts/zl_strategy_backtest, forecasts/mes_predictions and reports/zl_forecast."""


from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.conditions import on_upstream_update
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.partitions import SETTINGS
from cbi_platform.defs.resources import ReportStore, SourceResource, Warehouse
from cbi_platform.lib import quality
from cbi_platform.lib.config import configured_horizons, load_sources
from cbi_platform.lib.tables import DOLLARS, PERCENT, data_mode_banner, in_horizon_order, markdown


class RiskConfig(dg.Config):
    scenarios: int = 0  # Monte Carlo draws per horizon; 0: config/risk.yaml (10,000 by default)
    position_contracts: float = 0.0  # signed ZL contracts; 0: config/risk.yaml


def _calibration_metadata(warehouse: Warehouse, frame, horizons: dict[str, int]) -> dict:
    """Reliability, PIT histogram and CRPS by year of the walk-forward (backtest) forecasts."""
    import pandas as pd

    from cbi_platform.lib.ml.calibration import crps_by_year, pit_histogram, reliability

    with warehouse.read_connection() as conn:
        targets = conn.execute("SELECT trade_date, COLUMNS('^target_[0-9]') FROM features.zl_daily_matrix").df()
    outcomes = targets.melt(id_vars="trade_date", var_name="horizon", value_name="realised")
    outcomes["horizon"] = outcomes["horizon"].str.removeprefix("target_")
    outcomes["as_of_date"] = pd.to_datetime(outcomes.pop("trade_date")).dt.date
    backtest = frame[frame["kind"] == "backtest"].merge(outcomes, on=["as_of_date", "horizon"], how="left")
    shares = reliability(backtest, horizons)
    pit = pit_histogram(backtest, horizons)
    yearly = crps_by_year(backtest, horizons)
    return {
        "reliability": dg.MetadataValue.md(markdown(shares, formats={c: PERCENT for c in shares.columns[2:]})),
        "pit_histogram": dg.MetadataValue.md(markdown(pit, formats={c: PERCENT for c in pit.columns[1:]})),
        "crps_by_year": dg.MetadataValue.md(markdown(yearly, floatfmt=".4f")),
    }


def _price_units(sources: SourceResource) -> str:
    """ZL's price units as the UI shows them (cents/lb -> c/lb)."""
    units = load_sources(Path(sources.config_dir)).symbol("ZL").units
    return units.replace("cents/", "c/")


def _horizons(sources: SourceResource) -> dict[str, int]:
    return configured_horizons(Path(sources.config_dir))


@dg.asset(
    key=["forecasts", "zl_predictions"],
    deps=[dg.AssetKey(["models", "zl_ensemble"]), dg.AssetKey(["features", "zl_daily_matrix"])],
    description=(
        "ZL forecasts of forward log returns, P10/P50/P90 (and P5/P95) per horizon, calibrated so the P10-P90 "
        "interval covers 80%. kind='live': days whose outcome is not known yet (the latest is tomorrow's "
        "forecast); kind='backtest': walk-forward forecasts, each from a model trained before its date."
    ),
    group_name="forecasts",
    kinds={"python", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_upstream_update(),
    check_specs=specs(dg.AssetKey(["forecasts", "zl_predictions"]), [
        ("quantiles_ordered", "P5 <= P10 <= P50 <= P90 <= P95 on every row, all finite", True),
        ("latest_forecast_present", "A live forecast exists for the latest trading day, every horizon", True),
    ]),
)
def zl_predictions(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.forecast import publish
    from cbi_platform.lib.ml.quantiles import QCOLS

    with warehouse.get_connection() as conn:
        frame = publish(conn, _horizons(sources), sources.mode)
        wh.replace_rows(conn, "forecasts.zl_predictions", frame)
        latest_day = conn.execute("SELECT max(trade_date) FROM features.zl_daily_matrix").fetchone()[0]
        # only today's forecast is ex ante: earlier pending days re-forecast now would use a model
        # trained on later outcomes, so they are not archived as what was said on those days
        archived = frame[(frame["kind"] == "live") & (frame["as_of_date"] == latest_day)].rename(
            columns={"created_at": "published_at"})
        wh.upsert(conn, "forecasts.zl_forecast_archive", archived.drop(columns=["model", "kind", "p10_price", "p50_price",
                                                                               "p90_price"]),
                  ["as_of_date", "horizon", "model_version"])
    latest = frame[(frame["kind"] == "live") & (frame["as_of_date"] == latest_day)]
    ordered = quality.quantiles_ordered(frame, QCOLS)
    present = quality.CheckOutcome(
        "latest_forecast_present", set(latest["horizon"]) == set(_horizons(sources)),
        "a live forecast for the latest trading day at every horizon",
        metadata={"latest_trading_day": str(latest_day), "horizons": sorted(latest["horizon"])},
    )
    diagnostics = _calibration_metadata(warehouse, frame, _horizons(sources))
    units = _price_units(sources)
    shown = in_horizon_order(latest[["horizon", "target_date", "last_price", "p10_price", "p50_price", "p90_price",
                                     "model_version"]], _horizons(sources))
    price = "{:.2f} " + units
    table = markdown(shown, formats={c: price for c in ("last_price", "p10_price", "p50_price", "p90_price")})
    return dg.MaterializeResult(
        metadata={
            "latest_forecast": dg.MetadataValue.md(f"{data_mode_banner(sources.mode)}\n\n{table}"),
            "as_of_date": str(latest_day),
            "data_mode": sources.mode,
            "dagster/row_count": int(len(frame)),
            **diagnostics,
        },
        check_results=[to_result(ordered), to_result(present)],
    )


RISK_KEY = dg.AssetKey(["risk", "risk_metrics"])
SCENARIOS_KEY = dg.AssetKey(["risk", "monte_carlo_scenarios"])
HORIZON_NAMES = list(configured_horizons(SETTINGS.config_dir))  # the checks are declared when definitions load
BACKTEST_CHECKS = [(f"var_backtest_{h}", f"VaR99 backtest at {h} on non-overlapping forecasts: Basel green passes, "
                    f"yellow warns, red fails; fewer than 100 observations (no exceedance expected) warns as "
                    f"insufficient evidence (Kupiec and Christoffersen p-values in metadata)", False)
                   for h in HORIZON_NAMES] + [
    (f"var_dq_{h}", f"Engle-Manganelli dynamic quantile test of VaR95 at {h} on non-overlapping forecasts (4 lagged "
                    f"hits and the VaR level): p >= 1% passes; fewer than 10 expected exceedances warns as insufficient "
                    f"evidence", False)
    for h in HORIZON_NAMES] + [
    (f"es_backtest_{h}", f"Acerbi-Szekely Z2 test of ES99 at {h} on non-overlapping forecasts, p-value by redrawing "
                         f"outcomes from each day's forecast distribution: p >= 1% passes; fewer than 5 expected "
                         f"exceedances warns as insufficient evidence", False)
    for h in HORIZON_NAMES]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(SCENARIOS_KEY, deps=[dg.AssetKey(["forecasts", "zl_predictions"])],
                     description="Monte Carlo scenarios of the latest ZL forecast: inverse-CDF draws from each horizon's "
                                 "quantile function with shared uniforms across horizons (a comonotone copula).",
                     group_name="risk", kinds={"python", "numpy"}, owners=["team:risk"],
                     automation_condition=on_upstream_update()),
        dg.AssetSpec(RISK_KEY, deps=[dg.AssetKey(["forecasts", "zl_predictions"])],
                     description="VaR and CVaR at 95% and 99% per forecast and horizon: in log return, in price, in USD per "
                                 "ZL contract (60,000 lb) and for the configured position; live and backtest forecasts, "
                                 "with VaR backtests (exceedances, Kupiec, Christoffersen, Basel traffic light).",
                     group_name="risk", kinds={"python", "duckdb"}, owners=["team:risk"],
                     automation_condition=on_upstream_update()),
    ],
    check_specs=specs(RISK_KEY, [
        ("var_ordered", "0 < VaR95 <= VaR99 and VaR <= CVaR at each level, all finite", True),
        ("scenarios_match_quantiles", "Monte Carlo VaR agrees with the quantile function within sampling error", True),
        *BACKTEST_CHECKS,
    ]),
    pool=WAREHOUSE_POOL,
)
def zl_risk(context: dg.AssetExecutionContext, config: RiskConfig, warehouse: Warehouse, sources: SourceResource):
    import numpy as np
    import pandas as pd

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.config import load_yaml
    from cbi_platform.lib.ml.quantiles import QCOLS
    from cbi_platform.lib.risk import backtest as bt
    from cbi_platform.lib.risk.metrics import Contract, fit_tails, forecast_draws, risk_rows, scenario_set

    settings = load_yaml(Path(sources.config_dir) / "risk.yaml")
    n_scenarios = config.scenarios or int(settings["scenarios"])
    position = config.position_contracts or float(settings["position"]["contracts"])
    spec = load_sources(Path(sources.config_dir)).symbol(settings["position"]["root"])
    contract = Contract(spec.root, spec.contract_size, 0.01 if spec.units.startswith("cents") else 1.0)
    horizons = _horizons(sources)
    with warehouse.get_connection() as conn:
        predictions = conn.execute("SELECT * FROM forecasts.zl_predictions ORDER BY as_of_date").df()
        targets = conn.execute("SELECT * FROM features.zl_daily_matrix").df().set_index("trade_date")
        realised = {h: targets[f"target_{h}"].rename(index=lambda d: pd.Timestamp(d).date()) for h in horizons}
        predictions["as_of_date"] = pd.to_datetime(predictions["as_of_date"]).dt.date
        tails = fit_tails(predictions[predictions["kind"] == "backtest"], realised)
        metrics = risk_rows(predictions, tails, contract, position)
        metrics["scenarios"] = n_scenarios
        metrics["realised_return"] = [realised[h].get(d) for h, d in zip(metrics["horizon"], metrics["as_of_date"])]
        latest_day = predictions.loc[predictions["kind"] == "live", "as_of_date"].max()
        latest = predictions[(predictions["kind"] == "live") & (predictions["as_of_date"] == latest_day)]
        draws, summary = scenario_set(latest, tails, n_scenarios, int(settings["seed"]))
        wh.replace_rows(conn, "forecasts.risk_metrics", metrics)
        wh.replace_rows(conn, "forecasts.monte_carlo_scenarios", draws)

    values = metrics[[c for c in metrics.columns if c.startswith(("var", "cvar"))]].to_numpy(dtype=float)
    ordered = bool(np.all(np.isfinite(values))) and bool(
        ((metrics["var95_return"] <= metrics["var99_return"]) & (metrics["var95_return"] <= metrics["cvar95_return"])
         & (metrics["var99_return"] <= metrics["cvar99_return"]) & (metrics["var95_return"] > 0)).all())
    live = metrics[(metrics["kind"] == "live") & (metrics["as_of_date"] == latest_day)].set_index("horizon")
    # sampling error of an empirical 1% quantile is ~sqrt(p(1-p)/n)/density: 5% relative is generous at 10k draws
    tolerance = 0.05 if n_scenarios >= 10_000 else 0.15
    mismatch = {h: {"mc_var99": s["var99"], "analytic_var99": float(live.loc[h, "var99_return"])}
                for h, s in summary.items() if abs(s["var99"] - live.loc[h, "var99_return"]) > tolerance * abs(live.loc[h, "var99_return"])}
    backtests, dq_tests, es_tests = {}, {}, {}
    for horizon, days in horizons.items():
        past = metrics[(metrics["kind"] == "backtest") & (metrics["horizon"] == horizon)].dropna(subset=["realised_return"])
        past = past.sort_values("as_of_date").iloc[bt.non_overlapping(np.arange(len(past)), days)]
        backtests[horizon] = bt.backtest(past["realised_return"].to_numpy(), past["var99_return"].to_numpy(), 0.99)
        dq_tests[horizon] = bt.dynamic_quantile(past["realised_return"].to_numpy(), past["var95_return"].to_numpy(), 0.95)
        grids = past[["as_of_date"]].merge(predictions[(predictions["kind"] == "backtest") & (predictions["horizon"] == horizon)]
                                           [["as_of_date", *QCOLS]], on="as_of_date", how="left")
        es_tests[horizon] = bt.es_backtest(past["realised_return"].to_numpy(), past["var99_return"].to_numpy(),
                                           past["cvar99_return"].to_numpy(), 0.99,
                                           forecast_draws(grids, tails[horizon]), simulations=1000)
    shown = in_horizon_order(live.reset_index()[["horizon", "var95_return", "cvar95_return", "var99_return", "cvar99_return",
                                                 "var95_usd", "var99_usd", "position_var99_usd"]], horizons)
    money = {c: PERCENT for c in ("var95_return", "cvar95_return", "var99_return", "cvar99_return")} | {
        c: DOLLARS for c in ("var95_usd", "var99_usd", "position_var99_usd")}
    backtest_table = pd.DataFrame([{"horizon": h, "zone": b.zone, "observations": b.observations,
                                    "exceedances": b.exceedances, "expected": round(b.expected, 2),
                                    "kupiec_p": b.kupiec_p, "christoffersen_p": b.christoffersen_p}
                                   for h, b in backtests.items()])
    yield dg.MaterializeResult(asset_key=SCENARIOS_KEY,
                               metadata={"dagster/row_count": int(len(draws)), "as_of_date": str(latest_day),
                                         "scenarios_per_horizon": n_scenarios,
                                         "sample_var_cvar": dg.MetadataValue.json(summary)})
    yield dg.MaterializeResult(asset_key=RISK_KEY,
                               metadata={"latest_var": dg.MetadataValue.md(
                                   f"{data_mode_banner(sources.mode)}\n\nLosses as positive numbers; VaR in log return "
                                   f"and in dollars per contract and for the position.\n\n{markdown(shown, formats=money)}"),
                                         "position_contracts": position,
                                         "tail_assumption": metrics["tail_assumption"].iloc[0],
                                         "backtests": dg.MetadataValue.md(markdown(backtest_table, floatfmt=".3f")),
                                         "dagster/row_count": int(len(metrics))})
    yield to_result(quality.CheckOutcome("var_ordered", ordered, "0 < VaR95 <= VaR99, VaR <= CVaR, all finite"), RISK_KEY)
    yield to_result(quality.CheckOutcome("scenarios_match_quantiles", not mismatch,
                                         "Monte Carlo VaR99 within sampling error of the analytic VaR99",
                                         metadata={"mismatches": mismatch or "none", "relative_tolerance": tolerance}), RISK_KEY)
    for horizon, result in backtests.items():
        if result.zone == "insufficient":
            verdict = (f"VaR99 backtest at {horizon}: insufficient evidence, {result.observations} non-overlapping "
                       f"observations (one exceedance is expected only after {result.needed_observations})")
        else:
            verdict = f"VaR99 backtest at {horizon}: Basel zone {result.zone}, {result.summary()}"
        yield to_result(quality.CheckOutcome(
            f"var_backtest_{horizon}", result.zone == "green", verdict,
            severity="ERROR" if result.zone == "red" else "WARN",
            metadata=result.as_dict()), RISK_KEY)
    for horizon, dq in dq_tests.items():
        expected = 0.05 * dq.observations
        if expected < 10 or np.isnan(dq.p_value):
            verdict, passed = (f"VaR95 DQ test at {horizon}: insufficient evidence, {dq.observations} non-overlapping "
                               f"observations ({expected:.1f} exceedances expected; 10 needed for the test to have power)"), False
        else:
            passed = dq.p_value >= 0.01
            verdict = (f"VaR95 DQ test at {horizon}: DQ {dq.statistic:.2f}, p {dq.p_value:.3f} on {dq.observations} "
                       f"non-overlapping observations" + ("" if passed else ": exceedances cluster or depend on the VaR level"))
        yield to_result(quality.CheckOutcome(f"var_dq_{horizon}", passed, verdict, severity="WARN",
                                             metadata={**dq.as_dict(), "expected_exceedances": round(expected, 1)}), RISK_KEY)
    for horizon, es in es_tests.items():
        if es.expected_exceedances < 5:
            verdict, passed = (f"ES99 backtest at {horizon}: insufficient evidence, {es.observations} non-overlapping "
                               f"observations ({es.expected_exceedances:.1f} exceedances expected; 5 needed)"), False
        else:
            passed = es.p_value >= 0.01
            verdict = (f"ES99 backtest (Acerbi-Szekely Z2) at {horizon}: Z2 {es.z2:.2f}, p {es.p_value:.3f} on "
                       f"{es.observations} non-overlapping observations"
                       + ("" if passed else ": losses beyond VaR deeper or more frequent than the forecast ES"))
        yield to_result(quality.CheckOutcome(f"es_backtest_{horizon}", passed, verdict, severity="WARN",
                                             metadata=es.as_dict()), RISK_KEY)


STRATEGY_KEY = dg.AssetKey(["forecasts", "zl_strategy_backtest"])


@dg.asset(
    key=STRATEGY_KEY,
    deps=[dg.AssetKey(["forecasts", "zl_predictions"]), dg.AssetKey(["models", "zl_baselines"])],
    description=(
        "What the forecasts would have earned: per horizon, each day a tranche of clip(k x P50 / (P90 - P10), -1, 1) "
        "ZL contracts held for the horizon (overlapping tranches), on the ensemble's walk-forward forecasts only; "
        "daily P&L per contract after commission and slippage (config/risk.yaml strategy), roll-adjusted. Sharpe "
        "with a block-bootstrap interval, Sortino, drawdown, hit rate, turnover, exposure; against the same rule on "
        "climatology and buy-and-hold (forecasts.zl_strategy_daily)."
    ),
    group_name="forecasts",
    kinds={"python", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_upstream_update(),
)
def zl_strategy_backtest(context: dg.AssetExecutionContext, warehouse: Warehouse,
                         sources: SourceResource) -> dg.MaterializeResult:

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.risk import strategy

    config = strategy.load_strategy_config(Path(sources.config_dir))
    horizons = _horizons(sources)
    with warehouse.get_connection() as conn:
        predictions = conn.execute("SELECT * FROM forecasts.zl_predictions WHERE kind = 'backtest'").df()
        climatology = conn.execute("SELECT * FROM training.oof_predictions WHERE model = 'climatology' "
                                   "ORDER BY horizon, as_of_date").df()
        market = strategy.market_from_matrix(
            conn.execute("SELECT trade_date, zl_close, zl_ret_1d FROM features.zl_daily_matrix").df())
        climatology = strategy.calibrated_climatology(climatology, horizons)
        summary, daily = strategy.run_all(predictions, climatology, market, horizons, config)
        version = predictions["model_version"].iloc[0] if len(predictions) else "-"
        stored = daily.rename(columns={"pnl": "pnl_usd", "equity": "equity_usd"}).assign(
            model_version=version, data_mode=sources.mode)
        wh.replace_rows(conn, "forecasts.zl_strategy_daily", stored)
    shown = summary.assign(sharpe_90pct=[f"[{lo:.2f}, {hi:.2f}]" for lo, hi in summary["sharpe_interval"]])
    shown = in_horizon_order(shown.drop(columns=["sharpe_interval"]), horizons)
    columns = ["horizon", "rule", "sharpe", "sharpe_90pct", "sortino", "total_pnl_usd", "max_drawdown_usd",
               "max_drawdown_days", "hit_rate", "turnover", "exposure", "days", "independent_periods"]
    table = markdown(shown[columns], floatfmt=".2f", formats={"total_pnl_usd": DOLLARS, "max_drawdown_usd": DOLLARS,
                                                              "hit_rate": PERCENT})
    return dg.MaterializeResult(metadata={
        "summary": dg.MetadataValue.md(f"{data_mode_banner(sources.mode)}\n\nPer ZL contract, after costs "
                                       f"(${config.costs.per_contract():.2f} per contract traded). A Sharpe over fewer than "
                                       f"{strategy.MIN_INDEPENDENT_PERIODS} independent holding periods is not judged.\n\n{table}"),
        "dagster/row_count": int(len(stored)),
    })


MES_FORECAST_KEY = dg.AssetKey(["forecasts", "mes_predictions"])


@dg.asset(
    key=MES_FORECAST_KEY,
    deps=[dg.AssetKey(["models", "mes_timeseries"]), dg.AssetKey(["features", "mes_hourly"])],
    description=(
        "Hourly forecasts of every root for the next 24 trading hours (P10/P50/P90 prices) from the registered MES "
        "TimeSeriesPredictor on the latest bars; bar times follow each root's Globex hours."
    ),
    group_name="forecasts",
    kinds={"python", "autogluon", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_upstream_update(),
    check_specs=specs(MES_FORECAST_KEY, [
        ("quantiles_ordered", "P10 <= P50 <= P90 on every row, all finite", True),
        ("mes_forecast_present", "MES has a forecast for every step of the horizon", True),
    ]),
)
def mes_predictions(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
    import datetime as dt
    import json

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.ml import registry
    from cbi_platform.lib.ml.timeseries import forecast_next, load_predictor, load_timeseries_config

    with warehouse.get_connection() as conn:
        entry = registry.latest(conn, "mes_timeseries")[0]
        best = json.loads(conn.execute("SELECT metrics FROM training.model_registry WHERE model = ? AND version = ?",
                                       ["mes_timeseries", entry.version]).fetchone()[0])["best_model"]
        profile = conn.execute("SELECT profile FROM training.model_registry WHERE model = ? AND version = ?",
                               ["mes_timeseries", entry.version]).fetchone()[0]
        config = load_timeseries_config(Path(sources.config_dir), profile)
        panel = conn.execute("SELECT * FROM features.mes_hourly ORDER BY item_id, timestamp").df()
        frame = forecast_next(load_predictor(entry.path), panel, config, Path(sources.config_dir), best)
        frame = frame.assign(model=best, model_version=entry.version, data_mode=sources.mode,
                             created_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        wh.replace_rows(conn, "forecasts.mes_predictions", frame.drop(columns=["q10", "q50", "q90"]))
    mes = frame[frame["item_id"] == "MES"]
    outcomes = [
        quality.quantiles_ordered(frame, ["p10_price", "p50_price", "p90_price"]),
        quality.CheckOutcome("mes_forecast_present", len(mes) == config.prediction_length,
                             "MES forecast for every step", metadata={"mes_steps": int(len(mes))}),
    ]
    shown = mes[["step", "bar_time", "p10_price", "p50_price", "p90_price"]].head(24)
    return dg.MaterializeResult(
        metadata={"mes_next_24h": dg.MetadataValue.md(markdown(shown, floatfmt=".2f")), "model": best,
                  "items": int(frame["item_id"].nunique()), "dagster/row_count": int(len(frame))},
        check_results=[to_result(o) for o in outcomes],
    )


REPORT_KEY = dg.AssetKey(["reports", "zl_forecast"])


@dg.asset(
    key=REPORT_KEY,
    deps=[RISK_KEY, SCENARIOS_KEY, dg.AssetKey(["models", "zl_ensemble"]),
          dg.AssetKey(["forecasts", "zl_strategy_backtest"])],
    description=(
        "The ZL forecast report, a research note in one self-contained HTML page (reports/latest.html): the forecast "
        "in plain words with its caveats, the P10/P50/P90 fan per horizon, VaR/CVaR with the scenario distribution, "
        "the strategy's equity and drawdown, calibration (coverage over time, reliability, PIT, CRPS), feature drift "
        "and the ensemble's leaderboard; the charts are also written as PNGs and shown here. Open the full report "
        "with `make report` (served on 127.0.0.1:8765)."
    ),
    group_name="reports",
    kinds={"python", "html"},
    owners=["team:risk"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_upstream_update(),
)
def zl_forecast_report(context: dg.AssetExecutionContext, warehouse: Warehouse, reports: ReportStore,
                       sources: SourceResource) -> dg.MaterializeResult:
    from cbi_platform.lib import report

    with warehouse.read_connection() as conn:
        built = report.build(conn, Path(reports.root), Path(sources.config_dir))
    from cbi_platform.report_server import report_url

    return dg.MaterializeResult(metadata={
        "fan_chart": dg.MetadataValue.md(built.markdown_image("fan_chart")),
        "var_chart": dg.MetadataValue.md(built.markdown_image("scenarios")),
        "calibration_chart": dg.MetadataValue.md(built.markdown_image("coverage")),
        **{f"{name}_chart": dg.MetadataValue.md(built.markdown_image(name)) for name in ("strategy", "reliability", "crps")
           if name in built.pngs},
        # browsers refuse file:// links from a web page: `make report` serves the directory here
        "report_url": dg.MetadataValue.url(report_url()),
        "report": dg.MetadataValue.path(str(built.html_path)),
        **{f"png_{name}": dg.MetadataValue.path(str(path)) for name, path in built.pngs.items()},
        "as_of_date": str(built.as_of),
        "data_mode": built.data_mode,
    })
