"""The forecast report as a research note a person would forward: a self-contained HTML page
(charts embedded) plus the PNGs, written to <data>/reports/.

In order: the forecast in plain words with its caveats (sample or real data, the noise band), the
P10/P50/P90 fan per horizon, VaR/CVaR with the scenario distribution, what a documented rule
would have earned on the walk-forward forecasts (equity and drawdown), calibration (coverage over
time, reliability, PIT histogram, CRPS over time), feature drift (PSI) and the ensemble's
leaderboard (honest skill and weight of every member).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from cbi_platform.lib.display import dollars
from cbi_platform.lib.storage import Location

PALETTE = ["#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#9b2226", "#264653"]  # shortest horizon first


CHART_TITLES = {"fan_chart": "ZL history and P10/P50/P90 fan per horizon",
                "scenarios": "Monte Carlo scenarios with VaR and CVaR",
                "coverage": "Calibration: realised P10-P90 coverage over time",
                "strategy": "Strategy backtest: equity and drawdown per ZL contract",
                "reliability": "Reliability curve and PIT histogram per horizon",
                "crps": "CRPS of the walk-forward forecasts over time"}


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


def _strategy_chart(daily: pd.DataFrame, plt, horizons: list[str]):
    fig, (equity_ax, drawdown_ax) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True,
                                                 gridspec_kw={"height_ratios": [2, 1]})
    colors = dict(zip(horizons, PALETTE))
    for horizon in horizons:
        for rule, style in (("ensemble", "-"), ("climatology", ":")):
            part = daily[(daily["horizon"] == horizon) & (daily["rule"] == rule)].sort_values("as_of_date")
            if part.empty:
                continue
            equity_ax.plot(part["as_of_date"], part["equity_usd"], ls=style, lw=1.2, color=colors.get(horizon, "grey"),
                           label=f"{horizon} {rule}")
            if rule == "ensemble":
                drawdown = part["equity_usd"].cummax().clip(lower=0) - part["equity_usd"]
                drawdown_ax.fill_between(part["as_of_date"], -drawdown, 0, color=colors.get(horizon, "grey"), alpha=0.35,
                                         label=horizon)
    equity_ax.axhline(0, color="black", lw=0.6)
    equity_ax.set_ylabel("cumulative P&L, $")
    equity_ax.set_title("What the rule earned per ZL contract after costs (solid: ensemble; dotted: climatology)")
    equity_ax.legend(fontsize=7, ncol=4)
    equity_ax.grid(alpha=0.3)
    drawdown_ax.set_ylabel("drawdown, $")
    drawdown_ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _reliability_chart(reliability: pd.DataFrame, pit: pd.DataFrame, plt, horizons: list[str]):
    from cbi_platform.lib.ml.quantiles import QUANTILES

    fig, (curve_ax, pit_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = dict(zip(horizons, PALETTE))
    levels = [c for c in reliability.columns if c.startswith("P")]
    curve_ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls=":", label="calibrated")
    for row in reliability.itertuples(index=False):
        record = row._asdict()
        curve_ax.plot(QUANTILES, [reliability.loc[reliability["horizon"] == row.horizon, c].iloc[0] for c in levels],
                      marker="o", lw=1.2, color=colors.get(record["horizon"], "grey"), label=record["horizon"])
    curve_ax.set_xlabel("published quantile level")
    curve_ax.set_ylabel("share of outcomes below it")
    curve_ax.set_title("Reliability (on the diagonal: calibrated)")
    curve_ax.legend(fontsize=7)
    curve_ax.grid(alpha=0.3)
    bands = [c for c in pit.columns if c != "horizon"]
    shown = [h for h in horizons if h in set(pit["horizon"])]
    width = 0.8 / (len(shown) + 1)
    expected = pit[pit["horizon"] == "expected"].iloc[0]
    positions = range(len(bands))
    pit_ax.bar([x - 0.4 + width / 2 for x in positions], [expected[b] for b in bands], width, color="lightgrey",
               label="calibrated")
    for i, horizon in enumerate(shown, start=1):
        row = pit[pit["horizon"] == horizon].iloc[0]
        pit_ax.bar([x - 0.4 + width / 2 + i * width for x in positions], [row[b] for b in bands], width,
                   color=colors.get(horizon, "grey"), label=horizon)
    pit_ax.set_xticks(list(positions), bands, fontsize=7)
    pit_ax.set_title("Where outcomes fell between the published quantiles")
    pit_ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _crps_chart(scored: pd.DataFrame, plt, horizons: list[str]):
    fig, ax = plt.subplots(figsize=(10, 3.0))
    colors = dict(zip(horizons, PALETTE))
    for horizon in horizons:
        part = scored[scored["horizon"] == horizon].sort_values("as_of_date")
        if len(part) < 30:
            continue
        ax.plot(part["as_of_date"], part["crps"].rolling(63, min_periods=30).mean(), lw=1.2,
                color=colors.get(horizon, "grey"), label=horizon)
    ax.set_yscale("log")
    ax.set_ylabel("CRPS (log return)")
    ax.set_title("CRPS of the walk-forward forecasts, rolling 63 days (lower is better; a bump is a regime missed)")
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


def _skill_by_horizon(conn: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """The published ensemble's honest skill against climatology with its noise band, per horizon."""
    import json

    rows = conn.execute("""SELECT horizon, metrics FROM training.model_registry WHERE model = 'zl_ensemble'
                           AND version = (SELECT version FROM training.model_registry WHERE model = 'zl_ensemble'
                                          ORDER BY trained_at DESC LIMIT 1)""").fetchall()
    out = {}
    for horizon, metrics in rows:
        test = (json.loads(metrics) if isinstance(metrics, str) else metrics or {}).get("skill_vs_climatology") or {}
        if "skill" in test:
            out[horizon] = test
    return out


def _verdict(test: dict) -> str:
    skill, band = test["skill"], test["band"]
    if skill > band:
        return f"better than climatology beyond the noise band ({skill:+.1%}, band {band:.1%})"
    if skill < -band:
        return f"worse than climatology beyond the noise band ({skill:+.1%}, band {band:.1%})"
    return f"no evidence of beating climatology ({skill:+.1%}, within the noise band of {band:.1%})"


def _sharpe_verdict(row) -> str:
    low, high = row["sharpe_interval"]
    if pd.isna(low):
        return f"Sharpe {row['sharpe']:.2f} (too few days for an interval)"
    if not row.get("judged", True):
        return (f"Sharpe {row['sharpe']:.2f} (90% interval {low:.2f} to {high:.2f}), but only "
                f"{row['independent_periods']:.0f} independent holding periods: too few to judge")
    where = "above zero beyond noise" if low > 0 else "below zero beyond noise" if high < 0 else "within noise of zero"
    return f"Sharpe {row['sharpe']:.2f} (90% interval {low:.2f} to {high:.2f}: {where})"


def plain_words(live: pd.DataFrame, risk: pd.DataFrame, skill: dict[str, dict], strategy_summary: pd.DataFrame,
                units: str, data_mode: str) -> list[str]:
    """The note's opening: one sentence per horizon, the risk, the strategy and the caveats."""
    lines = []
    for row in live.itertuples():
        test = skill.get(row.horizon)
        judged = f"; {_verdict(test)}" if test else ""
        lines.append(f"{row.horizon} (to {pd.Timestamp(row.target_date).date()}): median {row.p50_price:.2f} {units}, "
                     f"80% between {row.p10_price:.2f} and {row.p90_price:.2f} (last {row.last_price:.2f}){judged}.")
    if len(risk):
        first = risk.iloc[0]
        lines.append(f"Holding one contract long for {first['horizon']}, a 1-in-100 loss is {dollars(first['var99_usd'])} "
                     f"or worse (VaR99), {dollars(first['cvar99_usd'])} on average beyond it (CVaR99).")
    ours = strategy_summary[strategy_summary["rule"] == "ensemble"] if len(strategy_summary) else strategy_summary
    for row in ours.to_dict("records"):
        lines.append(f"Trading the {row['horizon']} forecast by the documented rule would have earned "
                     f"{dollars(row['total_pnl_usd'])} per contract after costs over {row['days']} days: {_sharpe_verdict(row)}.")
    lines.append("SAMPLE WORLD: simulated data with a planted signal, shown to prove the platform works; nothing here "
                 "describes the real soybean oil market." if data_mode == "sample" else
                 f"Data mode {data_mode}: real market data. Futures are close to a random walk; read every skill against "
                 "its noise band and every backtest against its interval.")
    lines.append("Outcomes overlap: consecutive 3m and 6m forecasts share most of their future, so a few years of "
                 "backtest hold only a handful of independent outcomes and their figures move a lot by chance.")
    return lines


def build(conn: duckdb.DuckDBPyConnection, out_dir: Path, config_dir: Path | None = None) -> Report:
    """`config_dir` (the strategy's costs, drift limits, price units); None: the repo's config/."""
    import matplotlib

    matplotlib.use("Agg")  # no screen; and never a GUI backend inside a run
    import matplotlib.pyplot as plt

    from cbi_platform.lib import drift
    from cbi_platform.lib.config import configured_horizons, load_sources
    from cbi_platform.lib.ml import calibration
    from cbi_platform.lib.ml.quantiles import QCOLS, crps
    from cbi_platform.lib.risk import strategy
    from cbi_platform.lib.settings import Settings

    config_dir = Path(config_dir or Settings.from_env().config_dir)
    units = load_sources(config_dir).symbol("ZL").units
    predictions = conn.execute("SELECT * FROM forecasts.zl_predictions").df()
    # the horizons as published, shortest first (config/training.yaml is their one source)
    horizons = list(predictions.sort_values("horizon_days").drop_duplicates("horizon")["horizon"])
    horizon_days = {h: d for h, d in configured_horizons(config_dir).items() if h in horizons}
    live_all = predictions[predictions["kind"] == "live"]
    as_of = live_all["as_of_date"].max()
    live = live_all[live_all["as_of_date"] == as_of].sort_values("horizon_days")
    risk = conn.execute("SELECT * FROM forecasts.risk_metrics WHERE kind = 'live' AND as_of_date = ?", [as_of]).df()
    scenarios = conn.execute("SELECT horizon, log_return FROM forecasts.monte_carlo_scenarios").df()
    history = conn.execute("SELECT trade_date, zl_close FROM features.zl_daily_matrix ORDER BY trade_date").df()
    quantiles = ", ".join(f"p.{c}" for c in QCOLS)
    backtest = conn.execute(f"""SELECT p.as_of_date, p.horizon, {quantiles}, o.realised
                               FROM forecasts.zl_predictions p JOIN training.oof_predictions o
                                 ON o.model = p.model AND o.horizon = p.horizon AND o.as_of_date = p.as_of_date
                               WHERE p.kind = 'backtest' ORDER BY p.horizon, p.as_of_date""").df()
    weights = conn.execute("""SELECT member, horizon, weight, method, honest_pinball FROM training.ensemble_weights
                              WHERE version IN (SELECT version FROM training.model_registry WHERE model = 'zl_ensemble'
                                                ORDER BY trained_at DESC LIMIT 1)""").df()
    daily = conn.execute("SELECT horizon, rule, as_of_date, position, pnl_usd, equity_usd FROM forecasts.zl_strategy_daily "
                         "ORDER BY horizon, rule, as_of_date").df()
    market = strategy.market_from_matrix(conn.execute("SELECT trade_date, zl_close, zl_ret_1d FROM features.zl_daily_matrix").df())
    strategy_summary = strategy.summarise(daily, market, horizon_days, strategy.load_strategy_config(config_dir))
    feature_drift = drift.matrix_feature_drift(conn, drift.load_psi_limits(config_dir))
    skill = _skill_by_horizon(conn)
    data_mode = str(live["data_mode"].iloc[0])
    reliability = calibration.reliability(backtest, horizon_days)
    pit = calibration.pit_histogram(backtest, horizon_days)
    scored = backtest.dropna(subset=["realised"])
    scored = scored.assign(crps=crps(scored["realised"].to_numpy(), scored[list(QCOLS)].to_numpy()))

    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"fan_chart": _fan_chart(history, live, plt, horizons),
               "scenarios": _scenario_chart(scenarios, risk, plt, horizons),
               "coverage": _coverage_chart(backtest, plt, horizons)}
    if len(daily):
        figures["strategy"] = _strategy_chart(daily, plt, horizons)
    if len(reliability):
        figures["reliability"] = _reliability_chart(reliability, pit, plt, horizons)
        figures["crps"] = _crps_chart(scored, plt, horizons)
    pngs, embedded = {}, {}
    for name, fig in figures.items():
        data = _figure_png(fig)
        plt.close(fig)
        path = out_dir / f"{name}.png"
        path.write_bytes(data)
        pngs[name], embedded[name] = path, base64.b64encode(data).decode()

    def image(name: str, alt: str) -> str:
        return f'<img alt="{alt}" src="data:image/png;base64,{embedded[name]}">' if name in embedded else \
            "<p>not available until the strategy backtest and calibration have run</p>"

    forecast_table = live[["horizon", "target_date", "last_price", "p10_price", "p50_price", "p90_price"]]
    risk = risk.assign(_order=risk["horizon"].map(horizons.index)).sort_values("_order")
    risk_table = risk[["horizon", "var95_return", "cvar95_return", "var99_return", "cvar99_return", "var95_usd", "var99_usd",
                       "position_var99_usd"]]
    board = leaderboard(weights, horizons)
    strategy_table = strategy_summary.assign(
        sharpe_90pct=[f"{lo:.2f} to {hi:.2f}" for lo, hi in strategy_summary.get("sharpe_interval", [])]) \
        if len(strategy_summary) else strategy_summary
    if len(strategy_table):
        strategy_table = strategy_table[["horizon", "rule", "sharpe", "sharpe_90pct", "sortino", "total_pnl_usd",
                                         "max_drawdown_usd", "max_drawdown_days", "hit_rate", "turnover", "exposure",
                                         "independent_periods"]]
    crps_table = calibration.crps_by_year(backtest, horizon_days)
    drift_table = feature_drift.head(10)
    banner = ("<p class='sample'>SAMPLE WORLD: these are forecasts of simulated data, produced to show the platform "
              "working; they say nothing about the real soybean oil market.</p>") if data_mode == "sample" else ""
    words = "".join(f"<li>{html.escape(line)}</li>" for line in
                    plain_words(live, risk, skill, strategy_summary, units, data_mode))
    retrain = drift.retrain_requested(feature_drift, drift.load_psi_limits(config_dir))
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
<h2>In plain words</h2><ul>{words}</ul>
<p>Data mode: <b>{html.escape(data_mode)}</b>. Forecasts of forward log returns from the ZL ensemble, calibrated so
the P10-P90 interval covers 80% out of sample; prices in {html.escape(units)}.</p>
<h2>Forecast</h2>{_table_html(forecast_table, "{:.2f}")}
{image("fan_chart", "fan chart")}
<h2>Value at Risk (long 1 contract = 60,000 lb; the configured position in the last column)</h2>
{_table_html(risk_table, formats={"_return": "{:.2%}", "_usd": "{:,.0f}"})}
{image("scenarios", "scenario distribution")}
<h2>Strategy backtest</h2>
<p>Each day a tranche of clip(k &times; P50 / (P90 &minus; P10), &minus;1, 1) contracts is opened on the walk-forward
forecast and held for the horizon; dollars per ZL contract after commission and slippage (config/risk.yaml). The same
rule on climatology's forecasts should earn about nothing; buy-and-hold is on the same days. Sharpe intervals are 90%
block-bootstrap intervals; a Sharpe over fewer than 30 independent holding periods is not judged.</p>
{_table_html(strategy_table, "{:.2f}", formats={"_usd": "{:,.0f}", "hit_rate": "{:.1%}"}) if len(strategy_table) else ""}
{image("strategy", "equity and drawdown")}
<h2>Calibration</h2>
{image("coverage", "coverage over time")}
{image("reliability", "reliability and PIT histogram")}
{_table_html(reliability, formats={"%)": "{:.1%}"}) if len(reliability) else ""}
{image("crps", "CRPS over time")}
<p>Mean CRPS per year (log return; lower is better):</p>
{_table_html(crps_table, "{:.4f}") if len(crps_table) else ""}
<h2>Feature drift</h2>
<p>Population stability index of each feature, the rows the deployed model was trained on against the latest rows it
has not seen (above {drift.load_psi_limits(config_dir).warn:g}: warn; above {drift.load_psi_limits(config_dir).retrain:g}:
retrain; "insufficient": too few unseen rows to judge, as right after a retrain). Retraining requested:
<b>{"yes" if retrain else "no"}</b>. The ten largest:</p>
{_table_html(drift_table, "{:.3f}")}
<h2>Model leaderboard</h2>
<p>Each member's out-of-fold pinball skill against climatology (positive: better; walk-forward forecasts, never
trained on their own dates) and its weight in the ensemble, per horizon.</p>
{_table_html(board, formats={" skill": "{:+.1%}", " weight": "{:.2f}"}) if len(board) else "<p>no ensemble trained yet</p>"}
</body></html>"""
    html_path = out_dir / "latest.html"
    html_path.write_text(page, encoding="utf-8")
    return Report(html_path, pngs, pd.Timestamp(as_of).date(), data_mode)


@contextmanager
def built_at(conn: duckdb.DuckDBPyConnection, location: Location, config_dir: Path | None = None) -> Iterator[Report]:
    """The report, built where `location` is: in place on this machine's disk; on an object store,
    in a scratch folder uploaded to it (the Report's local files last while the block runs)."""
    if location.local:
        yield build(conn, Path(location.root), config_dir)
        return
    with tempfile.TemporaryDirectory(prefix="cbi-report-") as scratch:
        built = build(conn, Path(scratch), config_dir)
        location.upload_folder(Path(scratch), location.root)
        yield built
