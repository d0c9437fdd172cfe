"""Risk figures for published forecasts: VaR / CVaR per as_of_date and horizon, and the Monte
Carlo scenario set of the latest forecast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.risk.montecarlo import (
    TAIL_ASSUMPTION,
    TailScales,
    analytic_var_cvar,
    position_var_cvar,
    quantile_function,
    scenarios,
    usd_loss,
    var_cvar,
)

LEVELS = (0.95, 0.99)


@dataclass(frozen=True)
class ContractTerms:
    root: str
    contract_size: float
    price_unit: float  # dollars per quoted unit: 0.01 for cents


def fit_tails(backtest: pd.DataFrame, realised: pd.Series) -> dict[str, TailScales]:
    """Per horizon, exponential tail scales from past exceedances of the forecast P5 / P95."""
    tails = {}
    for horizon, part in backtest.groupby("horizon"):
        outcome = part["as_of_date"].map(realised.get(horizon, pd.Series(dtype=float)))
        known = outcome.notna()
        spread = float((part["q95"] - part["q05"]).median()) if len(part) else 0.05
        tails[horizon] = TailScales.fit(outcome[known], part.loc[known, "q05"], part.loc[known, "q95"], floor=spread / 6)
    return tails


def risk_rows(predictions: pd.DataFrame, tails: dict[str, TailScales], contract: ContractTerms,
              position_contracts: float = 1.0) -> pd.DataFrame:
    """Analytic VaR / CVaR (from each row's quantile function) for every forecast row: per long
    contract (return, price, USD) and for the configured position (USD, long or short)."""
    long = position_contracts >= 0
    records = []
    for row in predictions.itertuples(index=False):
        grid = np.array([getattr(row, c) for c in QCOLS])
        tail = tails[row.horizon]
        record = {"as_of_date": row.as_of_date, "horizon": row.horizon, "kind": row.kind, "last_price": row.last_price,
                  "model_version": row.model_version, "data_mode": row.data_mode}
        for level in LEVELS:
            var, cvar = analytic_var_cvar(grid, tail, level)
            tag = round(level * 100)
            record[f"var{tag}_return"], record[f"cvar{tag}_return"] = var, cvar
            record[f"var{tag}_usd"] = usd_loss(var, row.last_price, contract.contract_size, contract.price_unit)
            record[f"cvar{tag}_usd"] = usd_loss(cvar, row.last_price, contract.contract_size, contract.price_unit)
            record[f"var{tag}_price"] = row.last_price * np.exp(-var)
            p_var, p_cvar = position_var_cvar(grid, tail, level, long)
            size = abs(position_contracts)
            record[f"position_var{tag}_usd"] = size * usd_loss(p_var, row.last_price, contract.contract_size, contract.price_unit, long)
            record[f"position_cvar{tag}_usd"] = size * usd_loss(p_cvar, row.last_price, contract.contract_size, contract.price_unit, long)
        record["position_contracts"] = float(position_contracts)
        records.append(record)
    frame = pd.DataFrame(records)
    frame["tail_assumption"] = TAIL_ASSUMPTION
    return frame


def scenario_set(latest: pd.DataFrame, tails: dict[str, TailScales], n: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Monte Carlo scenarios of the latest forecast (one row per scenario and horizon) and their
    sample VaR / CVaR."""
    latest = latest.sort_values("horizon_days")
    horizons = latest["horizon"].tolist()
    grids = latest[list(QCOLS)].to_numpy()
    draws = scenarios(grids, [tails[h] for h in horizons], n, seed)
    price = float(latest["last_price"].iloc[0])
    frames, summary = [], {}
    for k, horizon in enumerate(horizons):
        frames.append(pd.DataFrame({"horizon": horizon, "scenario": np.arange(n), "log_return": draws[:, k],
                                    "price": price * np.exp(draws[:, k])}))
        summary[horizon] = {f"{kind}{round(level * 100)}": value
                            for level in LEVELS for kind, value in zip(("var", "cvar"), var_cvar(draws[:, k], level))}
    out = pd.concat(frames, ignore_index=True)
    out["as_of_date"] = latest["as_of_date"].iloc[0]
    out["model_version"] = latest["model_version"].iloc[0]
    return out, summary


def forecast_draws(rows: pd.DataFrame, tails: TailScales, points: int = 1000) -> np.ndarray:
    """Each row's forecast distribution as `points` equiprobable returns (its quantile function
    at the midpoints of `points` equal slices): what an ES backtest redraws outcomes from."""
    u = (np.arange(points) + 0.5) / points
    return np.stack([quantile_function(u, np.array([getattr(r, c) for c in QCOLS]), tails)
                     for r in rows.itertuples(index=False)]) if len(rows) else np.empty((0, points))
