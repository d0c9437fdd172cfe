"""The risk of the published ZL forecasts: VaR/CVaR of every forecast, Monte Carlo scenarios of
the latest one, and the backtests of the past ones, each with a verdict a person can read.
Plain Python: `defs/risk.py` stores the tables and shows the verdicts as asset checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.quality import CheckOutcome
from cbi_platform.lib.risk import backtest as bt
from cbi_platform.lib.risk.metrics import ContractTerms, fit_tails, forecast_draws, risk_rows, scenario_set

# Below these expected exceedance counts a test has no power: it warns "insufficient evidence"
DQ_MIN_EXPECTED_EXCEEDANCES = 10
ES_MIN_EXPECTED_EXCEEDANCES = 5
P_VALUE_FLOOR = 0.01


@dataclass
class RiskAssessment:
    metrics: pd.DataFrame  # forecasts.risk_metrics: one row per forecast and horizon
    draws: pd.DataFrame  # forecasts.monte_carlo_scenarios of the latest live forecast
    scenario_summary: dict  # per horizon: Monte Carlo VaR/CVaR of the draws
    latest_day: dt.date
    scenarios: int
    backtests: dict[str, bt.VarBacktest]
    dq_tests: dict[str, bt.DynamicQuantileTest]
    es_tests: dict[str, bt.ExpectedShortfallTest]

    @property
    def latest(self) -> pd.DataFrame:
        metrics = self.metrics
        return metrics[(metrics["kind"] == "live") & (metrics["as_of_date"] == self.latest_day)].set_index("horizon")

    @property
    def scenario_tolerance(self) -> float:
        # sampling error of an empirical 1% quantile is ~sqrt(p(1-p)/n)/density: 5% relative is generous at 10k draws
        return 0.05 if self.scenarios >= 10_000 else 0.15

    def backtest_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"horizon": h, "zone": b.zone, "observations": b.observations, "exceedances": b.exceedances,
                              "expected": round(b.expected, 2), "kupiec_p": b.kupiec_p, "christoffersen_p": b.christoffersen_p}
                             for h, b in self.backtests.items()])


def assess(predictions: pd.DataFrame, realised: dict[str, pd.Series], horizons: dict[str, int], contract: ContractTerms,
           position_contracts: float, scenarios: int, seed: int) -> RiskAssessment:
    """`predictions`: forecasts.zl_predictions (live and backtest rows, as_of_date as dates);
    `realised`: per horizon, the realised log return indexed by as-of date."""
    predictions = predictions.sort_values("as_of_date")
    tails = fit_tails(predictions[predictions["kind"] == "backtest"], realised)
    metrics = risk_rows(predictions, tails, contract, position_contracts)
    metrics["scenarios"] = scenarios
    metrics["realised_return"] = [realised[h].get(d) for h, d in zip(metrics["horizon"], metrics["as_of_date"])]
    latest_day = predictions.loc[predictions["kind"] == "live", "as_of_date"].max()
    latest = predictions[(predictions["kind"] == "live") & (predictions["as_of_date"] == latest_day)]
    draws, summary = scenario_set(latest, tails, scenarios, seed)
    backtests, dq_tests, es_tests = {}, {}, {}
    for horizon, days in horizons.items():
        # overlapping outcomes are not independent: every horizon-th forecast only
        past = metrics[(metrics["kind"] == "backtest") & (metrics["horizon"] == horizon)].dropna(subset=["realised_return"])
        past = past.sort_values("as_of_date").iloc[bt.non_overlapping(np.arange(len(past)), days)]
        outcome = past["realised_return"].to_numpy()
        backtests[horizon] = bt.backtest(outcome, past["var99_return"].to_numpy(), 0.99)
        dq_tests[horizon] = bt.dynamic_quantile(outcome, past["var95_return"].to_numpy(), 0.95)
        grids = past[["as_of_date"]].merge(predictions[(predictions["kind"] == "backtest") & (predictions["horizon"] == horizon)]
                                           [["as_of_date", *QCOLS]], on="as_of_date", how="left")
        es_tests[horizon] = bt.es_backtest(outcome, past["var99_return"].to_numpy(), past["cvar99_return"].to_numpy(), 0.99,
                                           forecast_draws(grids, tails[horizon]), simulations=1000)
    return RiskAssessment(metrics, draws, summary, latest_day, scenarios, backtests, dq_tests, es_tests)


def outcomes(assessment: RiskAssessment) -> list[CheckOutcome]:
    """Every check of the risk asset, in declaration order: VaR ordering, Monte Carlo against the
    quantile function, then per horizon the VaR99 backtest, the VaR95 DQ test, the ES99 test."""
    metrics = assessment.metrics
    values = metrics[[c for c in metrics.columns if c.startswith(("var", "cvar"))]].to_numpy(dtype=float)
    ordered = bool(np.all(np.isfinite(values))) and bool(
        ((metrics["var95_return"] <= metrics["var99_return"]) & (metrics["var95_return"] <= metrics["cvar95_return"])
         & (metrics["var99_return"] <= metrics["cvar99_return"]) & (metrics["var95_return"] > 0)).all())
    live, tolerance = assessment.latest, assessment.scenario_tolerance
    mismatch = {h: {"mc_var99": s["var99"], "analytic_var99": float(live.loc[h, "var99_return"])}
                for h, s in assessment.scenario_summary.items()
                if abs(s["var99"] - live.loc[h, "var99_return"]) > tolerance * abs(live.loc[h, "var99_return"])}
    checks = [
        CheckOutcome("var_ordered", ordered, "0 < VaR95 <= VaR99, VaR <= CVaR, all finite"),
        CheckOutcome("scenarios_match_quantiles", not mismatch, "Monte Carlo VaR99 within sampling error of the analytic VaR99",
                     metadata={"mismatches": mismatch or "none", "relative_tolerance": tolerance}),
    ]
    for horizon, result in assessment.backtests.items():
        if result.zone == "insufficient":
            verdict = (f"VaR99 backtest at {horizon}: insufficient evidence, {result.observations} non-overlapping "
                       f"observations (one exceedance is expected only after {result.needed_observations})")
        else:
            verdict = f"VaR99 backtest at {horizon}: Basel zone {result.zone}, {result.summary()}"
        checks.append(CheckOutcome(f"var_backtest_{horizon}", result.zone == "green", verdict,
                                   severity="ERROR" if result.zone == "red" else "WARN", metadata=_readable(result.as_dict())))
    for horizon, dq in assessment.dq_tests.items():
        expected = 0.05 * dq.observations
        if expected < DQ_MIN_EXPECTED_EXCEEDANCES or np.isnan(dq.p_value):
            passed = False
            verdict = (f"VaR95 DQ test at {horizon}: insufficient evidence, {dq.observations} non-overlapping observations "
                       f"({expected:.1f} exceedances expected; {DQ_MIN_EXPECTED_EXCEEDANCES} needed for the test to have power)")
        else:
            passed = dq.p_value >= P_VALUE_FLOOR
            verdict = (f"VaR95 DQ test at {horizon}: DQ {dq.statistic:.2f}, p {dq.p_value:.3f} on {dq.observations} "
                       f"non-overlapping observations" + ("" if passed else ": exceedances cluster or depend on the VaR level"))
        checks.append(CheckOutcome(f"var_dq_{horizon}", passed, verdict, severity="WARN",
                                   metadata=_readable({**dq.as_dict(), "expected_exceedances": expected})))
    for horizon, es in assessment.es_tests.items():
        if es.expected_exceedances < ES_MIN_EXPECTED_EXCEEDANCES:
            passed = False
            verdict = (f"ES99 backtest at {horizon}: insufficient evidence, {es.observations} non-overlapping observations "
                       f"({es.expected_exceedances:.1f} exceedances expected; {ES_MIN_EXPECTED_EXCEEDANCES} needed)")
        else:
            passed = es.p_value >= P_VALUE_FLOOR
            verdict = (f"ES99 backtest (Acerbi-Szekely Z2) at {horizon}: Z2 {es.z2:.2f}, p {es.p_value:.3f} on "
                       f"{es.observations} non-overlapping observations"
                       + ("" if passed else ": losses beyond VaR deeper or more frequent than the forecast ES"))
        checks.append(CheckOutcome(f"es_backtest_{horizon}", passed, verdict, severity="WARN", metadata=_readable(es.as_dict())))
    return checks


def _readable(values: dict) -> dict:
    """Check metadata as a person reads it: floats to four significant digits (0.24, not 0.2400000000000002)."""
    return {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in values.items()}
