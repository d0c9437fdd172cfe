"""The forecast report an analyst would rather look at than read: a self-contained HTML page
(charts embedded) plus the PNGs, written to <data>/reports/.

Charts: ZL history with the P10/P50/P90 fan per horizon, the scenario distribution with
VaR/CVaR marked, P10-P90 coverage over time (rolling, backtest forecasts), and the ensemble's
leaderboard (honest skill and weight of every member).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

PALETTE = ["#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#9b2226", "#264653"]  # shortest horizon first


CHART_TITLES = {"fan_chart": "ZL history and P10/P50/P90 fan per horizon",
                "scenarios": "Monte Carlo scenarios with VaR and CVaR",
                "coverage": "Calibration: realised P10-P90 coverage over time"}


@dataclass
class Report:
    html_path: Path
    pngs: dict[str, Path]
    as_of: dt.date
    data_mode: str

    def markdown_image(self, name: str) -> str:
        """The chart inline (a data URI): Dagster renders images in markdown metadata, while a
        file:// link is refused by the browser."""
        encoded = base64.b64encode(self.pngs[name].read_bytes()).decode()
        return f"![{CHART_TITLES.get(name, name)}](data:image/png;base64,{encoded})"


def _figure_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _fan_chart(history: pd.DataFrame, live: pd.DataFrame, plt, horizons: list[str]):
    fig, ax = plt.subplots(figsize=(10, 4.5))
    recent = history.tail(260)
    ax.plot(recent["trade_date"], recent["zl_close"], color="#1f3b57", lw=1.4, label="ZL front settle")
    colors = dict(zip(horizons, PALETTE))
    start = pd.Timestamp(live["as_of_date"].iloc[0])
    last = float(live["last_price"].iloc[0])
    for row in live.sort_values("horizon_days", ascending=False).itertuples():
        end = pd.Timestamp(row.target_date)
        ax.fill_between([start, end], [last, row.p10_price], [last, row.p90_price], color=colors.get(row.horizon, "grey"),
                        alpha=0.25, label=f"{row.horizon} P10-P90")
        ax.plot([start, end], [last, row.p50_price], color=colors.get(row.horizon, "grey"), lw=1.2, ls="--")
    ax.set_ylabel("cents / lb")
    ax.set_title("ZL soybean oil: history and forecast fan (P10 / P50 / P90)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def _scenario_chart(scenarios: pd.DataFrame, risk: pd.DataFrame, plt, horizons: list[str]):
    horizons = [h for h in horizons if h in set(scenarios["horizon"])]
    fig, axes = plt.subplots(1, len(horizons), figsize=(3.2 * len(horizons), 3.2), squeeze=False)
    for ax, horizon in zip(axes[0], horizons):
        draws = scenarios.loc[scenarios["horizon"] == horizon, "log_return"]
        ax.hist(draws, bins=80, color="#8ab6d6", edgecolor="none")
        row = risk[risk["horizon"] == horizon].iloc[0]
        for column, color, label in (("var95_return", "#f4a261", "VaR95"), ("cvar95_return", "#e76f51", "CVaR95"),
                                     ("var99_return", "#9b2226", "VaR99")):
            ax.axvline(-row[column], color=color, lw=1.5, label=f"{label} {row[column]:.1%}")
        ax.set_title(f"{horizon} log-return scenarios")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _coverage_chart(backtest: pd.DataFrame, plt, horizons: list[str]):
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for horizon in horizons:
        part = backtest[backtest["horizon"] == horizon].dropna(subset=["realised"]).sort_values("as_of_date")
        if len(part) < 30:
            continue
        inside = ((part["realised"] >= part["q10"]) & (part["realised"] <= part["q90"])).astype(float)
        ax.plot(part["as_of_date"], inside.rolling(63, min_periods=30).mean(), lw=1.2, label=horizon)
    ax.axhspan(0.75, 0.85, color="green", alpha=0.08)
    ax.axhline(0.8, color="green", lw=0.8, ls=":")
    ax.set_ylim(0, 1)
    ax.set_title("Calibrated P10-P90 coverage of walk-forward forecasts (rolling 63 days; target 80%)")
    ax.legend(fontsize=8, ncol=4)
    ax.grid(alpha=0.3)
    return fig


def leaderboard(weights: pd.DataFrame, horizons: list[str]) -> pd.DataFrame:
    """Every ensemble member's honest (out-of-fold) pinball skill against climatology and its
    weight, per horizon, best average skill first."""
    if weights.empty:
        return pd.DataFrame()
    frame = weights.dropna(subset=["honest_pinball"])
    reference = frame[frame["member"] == "climatology"].set_index("horizon")["honest_pinball"]
    frame = frame.assign(skill=1.0 - frame["honest_pinball"] / frame["horizon"].map(reference))
    horizons = [h for h in horizons if h in set(frame["horizon"])]
    skill = frame.pivot_table(index="member", columns="horizon", values="skill")[horizons]
    weight = frame.pivot_table(index="member", columns="horizon", values="weight")[horizons].fillna(0.0)
    table = pd.concat([skill.add_suffix(" skill"), weight.add_suffix(" weight")], axis=1)
    table = table.loc[skill.mean(axis=1).sort_values(ascending=False).index]
    table.columns.name = None
    return table.reset_index()


def _table_html(frame: pd.DataFrame, floatfmt: str = "{:.4f}", formats: dict[str, str] | None = None) -> str:
    """`formats` maps a column-name suffix to its format (e.g. "_usd": "{:,.0f}")."""
    formatted = frame.copy()
    for column in formatted.columns:
        if pd.api.types.is_float_dtype(formatted[column]):
            fmt = next((f for suffix, f in (formats or {}).items() if str(column).endswith(suffix)), floatfmt)
            formatted[column] = formatted[column].map(lambda v, fmt=fmt: "" if pd.isna(v) else fmt.format(v))
    return formatted.to_html(index=False, border=0, classes="table", escape=True)


def build(conn: duckdb.DuckDBPyConnection, out_dir: Path) -> Report:
    import matplotlib

    matplotlib.use("Agg")  # no screen; and never a GUI backend inside a run
    import matplotlib.pyplot as plt

    predictions = conn.execute("SELECT * FROM forecasts.zl_predictions").df()
    # the horizons as published, shortest first (config/training.yaml is their one source)
    horizons = list(predictions.sort_values("horizon_days").drop_duplicates("horizon")["horizon"])
    live_all = predictions[predictions["kind"] == "live"]
    as_of = live_all["as_of_date"].max()
    live = live_all[live_all["as_of_date"] == as_of].sort_values("horizon_days")
    risk = conn.execute("SELECT * FROM forecasts.risk_metrics WHERE kind = 'live' AND as_of_date = ?", [as_of]).df()
    scenarios = conn.execute("SELECT horizon, log_return FROM forecasts.monte_carlo_scenarios").df()
    history = conn.execute("SELECT trade_date, zl_close FROM features.zl_daily_matrix ORDER BY trade_date").df()
    backtest = conn.execute("""SELECT p.as_of_date, p.horizon, p.q10, p.q90, o.realised
                               FROM forecasts.zl_predictions p JOIN training.oof_predictions o
                                 ON o.model = p.model AND o.horizon = p.horizon AND o.as_of_date = p.as_of_date
                               WHERE p.kind = 'backtest'""").df()
    weights = conn.execute("""SELECT member, horizon, weight, method, honest_pinball FROM training.ensemble_weights
                              WHERE version IN (SELECT version FROM training.model_registry WHERE model = 'zl_ensemble'
                                                ORDER BY trained_at DESC LIMIT 1)""").df()
    data_mode = str(live["data_mode"].iloc[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"fan_chart": _fan_chart(history, live, plt, horizons),
               "scenarios": _scenario_chart(scenarios, risk, plt, horizons),
               "coverage": _coverage_chart(backtest, plt, horizons)}
    pngs, embedded = {}, {}
    for name, fig in figures.items():
        data = _figure_png(fig)
        plt.close(fig)
        path = out_dir / f"{name}.png"
        path.write_bytes(data)
        pngs[name], embedded[name] = path, base64.b64encode(data).decode()
    forecast_table = live[["horizon", "target_date", "last_price", "p10_price", "p50_price", "p90_price"]]
    risk = risk.assign(_order=risk["horizon"].map(horizons.index)).sort_values("_order")
    risk_table = risk[["horizon", "var95_return", "cvar95_return", "var99_return", "cvar99_return", "var95_usd", "var99_usd",
                       "position_var99_usd"]]
    board = leaderboard(weights, horizons)
    banner = ("<p class='sample'>SAMPLE WORLD: these are forecasts of simulated data, produced to show the platform "
              "working; they say nothing about the real soybean oil market.</p>") if data_mode == "sample" else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ZL forecast {as_of}</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1d2b36; }}
 h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; }}
 .sample {{ background: #fff3cd; border: 1px solid #e0c36a; padding: .6em 1em; }}
 table.table {{ border-collapse: collapse; font-size: .9em; }}
 table.table th, table.table td {{ padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: right; }}
 img {{ max-width: 100%; }}
</style></head><body>
<h1>ZL soybean oil forecast, as of {html.escape(str(pd.Timestamp(as_of).date()))}</h1>
{banner}
<p>Data mode: <b>{html.escape(data_mode)}</b>. Forecasts of forward log returns from the ZL ensemble, calibrated so
the P10-P90 interval covers 80% out of sample; prices in cents per pound.</p>
<h2>Forecast</h2>{_table_html(forecast_table, "{:.2f}")}
<img alt="fan chart" src="data:image/png;base64,{embedded['fan_chart']}">
<h2>Value at Risk (long 1 contract = 60,000 lb; the configured position in the last column)</h2>
{_table_html(risk_table, formats={"_return": "{:.2%}", "_usd": "{:,.0f}"})}
<img alt="scenario distribution" src="data:image/png;base64,{embedded['scenarios']}">
<h2>Calibration over time</h2>
<img alt="coverage over time" src="data:image/png;base64,{embedded['coverage']}">
<h2>Model leaderboard</h2>
<p>Each member's out-of-fold pinball skill against climatology (positive: better; walk-forward forecasts, never
trained on their own dates) and its weight in the ensemble, per horizon.</p>
{_table_html(board, formats={" skill": "{:+.1%}", " weight": "{:.2f}"}) if len(board) else "<p>no ensemble trained yet</p>"}
</body></html>"""
    html_path = out_dir / "latest.html"
    html_path.write_text(page, encoding="utf-8")
    return Report(html_path, pngs, pd.Timestamp(as_of).date(), data_mode)
