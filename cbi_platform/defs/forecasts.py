"""Forecast assets: forecasts/zl_predictions, forecasts/zl_strategy_backtest,
forecasts/mes_predictions and reports/zl_forecast (risk: defs/risk.py)."""


from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import reported, specs
from cbi_platform.defs.conditions import on_upstream_update
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.models import TRAINING_TABLES_KEY
from cbi_platform.defs.resources import PlatformConfig, ReportStore, Warehouse
from cbi_platform.defs.risk import RISK_KEY, SCENARIOS_KEY
from cbi_platform.lib.config import configured_horizons, load_sources
from cbi_platform.lib.display import DOLLARS, PERCENT, data_mode_banner, in_horizon_order, markdown
from cbi_platform.lib.quality import Check


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


def _price_units(platform: PlatformConfig) -> str:
    """ZL's price units as the UI shows them (cents/lb -> c/lb)."""
    units = load_sources(Path(platform.config_dir)).symbol("ZL").units
    return units.replace("cents/", "c/")


def _horizons(platform: PlatformConfig) -> dict[str, int]:
    return configured_horizons(Path(platform.config_dir))


FORECAST_CHECKS = [
    Check.reported("quantiles_ordered", "P5 <= P10 <= P50 <= P90 <= P95 on every row, all finite"),
    Check.reported("latest_forecast_present", "A live forecast exists for the latest trading day, every horizon"),
]


@dg.asset(
    key=["forecasts", "zl_predictions"],
    deps=[TRAINING_TABLES_KEY, dg.AssetKey(["features", "zl_daily_matrix"])],
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
    check_specs=specs(dg.AssetKey(["forecasts", "zl_predictions"]), FORECAST_CHECKS),
)
def zl_predictions(context: dg.AssetExecutionContext, warehouse: Warehouse, platform: PlatformConfig) -> dg.MaterializeResult:
    from cbi_platform.lib.forecast import publish_and_store

    with warehouse.get_connection() as conn:
        publication = publish_and_store(conn, _horizons(platform), platform.data_mode,
                                        load_sources(Path(platform.config_dir)).symbol("ZL").session)
    frame, latest = publication.frame, publication.latest
    diagnostics = _calibration_metadata(warehouse, frame, _horizons(platform))
    units = _price_units(platform)
    shown = in_horizon_order(latest[["horizon", "target_date", "last_price", "p10_price", "p50_price", "p90_price",
                                     "model_version"]], _horizons(platform))
    price = "{:.2f} " + units
    table = markdown(shown, formats={c: price for c in ("last_price", "p10_price", "p50_price", "p90_price")})
    return dg.MaterializeResult(
        metadata={
            "latest_forecast": dg.MetadataValue.md(f"{data_mode_banner(platform.data_mode)}\n\n{table}"),
            "as_of_date": str(publication.latest_day),
            "data_mode": platform.data_mode,
            "dagster/row_count": int(len(frame)),
            **diagnostics,
        },
        check_results=reported(FORECAST_CHECKS, publication.outcomes()),
    )


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
                         platform: PlatformConfig) -> dg.MaterializeResult:

    from cbi_platform.lib import warehouse as wh
    from cbi_platform.lib.risk import strategy

    config = strategy.load_strategy_config(Path(platform.config_dir))
    horizons = _horizons(platform)
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
            model_version=version, data_mode=platform.data_mode)
        wh.replace_rows(conn, "forecasts.zl_strategy_daily", stored)
    shown = summary.assign(sharpe_90pct=[f"[{lo:.2f}, {hi:.2f}]" for lo, hi in summary["sharpe_interval"]])
    shown = in_horizon_order(shown.drop(columns=["sharpe_interval"]), horizons)
    columns = ["horizon", "rule", "sharpe", "sharpe_90pct", "sortino", "total_pnl_usd", "max_drawdown_usd",
               "max_drawdown_days", "hit_rate", "turnover", "exposure", "days", "independent_periods"]
    table = markdown(shown[columns], floatfmt=".2f", formats={"total_pnl_usd": DOLLARS, "max_drawdown_usd": DOLLARS,
                                                              "hit_rate": PERCENT})
    return dg.MaterializeResult(metadata={
        "summary": dg.MetadataValue.md(f"{data_mode_banner(platform.data_mode)}\n\nPer ZL contract, after costs "
                                       f"(${config.costs.per_contract():.2f} per contract traded). A Sharpe over fewer than "
                                       f"{strategy.MIN_INDEPENDENT_PERIODS} independent holding periods is not judged.\n\n{table}"),
        "dagster/row_count": int(len(stored)),
    })


MES_FORECAST_KEY = dg.AssetKey(["forecasts", "mes_predictions"])
MES_FORECAST_CHECKS = [
    Check.reported("quantiles_ordered", "P10 <= P50 <= P90 on every row, all finite"),
    Check.reported("mes_forecast_present", "MES has a forecast for every step of the horizon"),
]


@dg.asset(
    key=MES_FORECAST_KEY,
    deps=[TRAINING_TABLES_KEY, dg.AssetKey(["features", "mes_hourly"])],
    description=(
        "Hourly forecasts of every root for the next 24 trading hours (P10/P50/P90 prices) from the registered MES "
        "TimeSeriesPredictor on the latest bars; bar times follow each root's Globex hours."
    ),
    group_name="forecasts",
    kinds={"python", "autogluon", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_upstream_update(),
    check_specs=specs(MES_FORECAST_KEY, MES_FORECAST_CHECKS),
)
def mes_predictions(context: dg.AssetExecutionContext, warehouse: Warehouse, platform: PlatformConfig) -> dg.MaterializeResult:
    from cbi_platform.lib.ml import mes

    with warehouse.get_connection() as conn:
        published = mes.publish(conn, Path(platform.config_dir), platform.data_mode)
    return dg.MaterializeResult(
        metadata={"mes_next_24h": dg.MetadataValue.md(markdown(published.focus_table(), floatfmt=".2f")),
                  "model": published.model, "items": int(published.frame["item_id"].nunique()),
                  "dagster/row_count": int(len(published.frame))},
        check_results=reported(MES_FORECAST_CHECKS, published.outcomes()),
    )


REPORT_KEY = dg.AssetKey(["reports", "zl_forecast"])


@dg.asset(
    key=REPORT_KEY,
    deps=[RISK_KEY, SCENARIOS_KEY, TRAINING_TABLES_KEY,
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
                       platform: PlatformConfig) -> dg.MaterializeResult:
    from cbi_platform.lib import report
    from cbi_platform.lib.storage import Location
    from cbi_platform.report_server import report_url

    location = Location(reports.root)
    with warehouse.read_connection() as conn, report.built_at(conn, location, Path(platform.config_dir)) as built:
        charts = {
            "fan_chart": dg.MetadataValue.md(built.markdown_image("fan_chart")),
            "var_chart": dg.MetadataValue.md(built.markdown_image("scenarios")),
            "calibration_chart": dg.MetadataValue.md(built.markdown_image("coverage")),
            **{f"{name}_chart": dg.MetadataValue.md(built.markdown_image(name)) for name in ("strategy", "reliability", "crps")
               if name in built.pngs},
        }
    stored = {"report": location.url_for(built.html_path.name),
              **{f"png_{name}": location.url_for(path.name) for name, path in built.pngs.items()}}
    as_metadata = dg.MetadataValue.path if location.local else dg.MetadataValue.url
    return dg.MaterializeResult(metadata={
        **charts,
        # browsers refuse file:// links from a web page: `make report` serves the directory here
        "report_url": dg.MetadataValue.url(report_url()),
        **{name: as_metadata(where) for name, where in stored.items()},
        "as_of_date": str(built.as_of),
        "data_mode": built.data_mode,
    })
