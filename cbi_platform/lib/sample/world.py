"""The simulated world: a deterministic, seeded futures market and macro economy.

One `World` per (seed, signal) holds every latent state from 2005 to 2030; each source renders
its own wire format from it (DBN, FRED JSON, ...). What the world contains:

- CME trading calendar; 60+ futures roots driven by nine common factors (equity, usd, rates,
  energy, grains, oilseeds, metals, livestock, china) plus fat-tailed idiosyncratic shocks, with
  a two-state volatility regime (calm / stress);
- a term structure per root (AR(1) carry), real contract months and expiries, so the continuous
  front month (`.c.0`) jumps at rolls exactly as Databento's continuous symbology does;
- a Fed that moves its target range at FOMC meetings, a Treasury curve, VIX/OVX tied to
  realised volatility and regime, stress indices, and slow macro series with release lags and
  revisions (see `macro.py`);
- weekly RIN prices and China export-sales surprises.

The planted signal (documented in the README): ZL's daily drift is `signal * KAPPA * s[t-1]`,
where `s` combines the board-crush margin's deviation from its anchor (negative loading: high
margins draw more crushing and more oil), the 4-week momentum of published D4 RIN prices and
the decaying sum of published China export-sales surprises, all as known on the previous
session. `signal=0` is the null world: no drift signal *and* no volatility regimes, so nothing
about ZL's future is predictable beyond its unconditional distribution; any skill a model shows
there is leakage.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cbi_platform.lib import calendar
from cbi_platform.lib.config import SymbolSpec, load_sources
from cbi_platform.lib.contracts import MONTH_CODES, contract_months, nominal_expiry

FACTORS = ("equity", "usd", "rates", "energy", "grains", "oilseeds", "metals", "livestock", "china")
KAPPA = 0.0016  # daily ZL drift per unit of the planted signal
CRUSH_ANCHOR = 1.40  # $/bu, the long-run board crush margin
CRUSH_SCALE = 0.6  # $/bu, one unit of the crush component (about its standard deviation)
SIGNAL_WEIGHTS = {"crush": -0.6, "rin": 0.5, "china": 0.5}
FOMC_MEETINGS = ((1, 31), (3, 20), (5, 2), (6, 15), (7, 30), (9, 20), (10, 31), (12, 14))
STRESS_VOL = 2.0
REVERTING_BUCKETS = {"ags", "energy", "metals", "fx", "crypto"}
REVERSION = np.log(2) / (3 * 252)  # 3-year half-life towards the starting price


@dataclass(frozen=True)
class ListedContract:
    root: str
    year: int
    month: int
    expiry_index: int  # session index of the last trading day
    instrument_id: int

    @property
    def raw_symbol(self) -> str:
        return f"{self.root}{MONTH_CODES[self.month - 1]}{self.year % 10}"


def instrument_id(root: str, year: int, month: int) -> int:
    return zlib.crc32(f"{root}:{year}:{month}".encode()) % 2_000_000_000 + 1000


def _student_t(rng: np.random.Generator, shape, df: float = 5.0) -> np.ndarray:
    """Unit-variance Student-t shocks: fat tails like real futures returns."""
    return rng.standard_t(df, size=shape) / np.sqrt(df / (df - 2.0))


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float, start: float = 0.0) -> np.ndarray:
    out = np.empty(n)
    level = start
    shocks = rng.standard_normal(n) * sd
    for i in range(n):
        level = phi * level + shocks[i]
        out[i] = level
    return out


class World:
    def __init__(self, seed: int, signal: float, config_dir: Path):
        self.seed = int(seed)
        self.signal = float(signal)
        self.sources = load_sources(config_dir)
        self.symbols: tuple[SymbolSpec, ...] = self.sources.symbols
        self.root_index = {s.root: i for i, s in enumerate(self.symbols)}
        self.sessions = calendar.sessions()
        self.dates = calendar.session_dates()
        n, k = len(self.sessions), len(self.symbols)
        self.n_days = n
        rng = np.random.default_rng([self.seed, 1])

        self._regime(rng)
        self.factors = _student_t(rng, (n, len(FACTORS)))
        self.idio = _student_t(rng, (n, k))
        self._weekly_latents(rng)
        self._rates(rng)
        self._markets(rng)
        self._vol_indices(rng)
        self._macro_latents(rng)
        self._daily_bars()

    # ------------------------------------------------------------------ regime and weekly state
    def _regime(self, rng: np.random.Generator) -> None:
        n = self.n_days
        draws = rng.random(n)
        stress = np.zeros(n, dtype=bool)
        state = False
        for i in range(n):
            state = draws[i] < (0.965 if state else 0.0045)
            stress[i] = state
        if self.signal == 0.0:
            stress[:] = False  # the null world has no volatility clustering
        self.stress = stress
        self.vol_mult = np.where(stress, STRESS_VOL, 1.0)
        # smoothed stress: what stress indices and the real economy respond to
        smooth = np.empty(n)
        level = 0.0
        for i in range(n):
            level = 0.96 * level + 0.04 * float(stress[i])
            smooth[i] = level
        self.stress_smooth = smooth

    def _weekly_latents(self, rng: np.random.Generator) -> None:
        """Weekly RIN prices and China export-sales surprises, and when each becomes public."""
        first_monday = calendar.CALENDAR_START - dt.timedelta(days=calendar.CALENDAR_START.weekday())
        weeks = int((calendar.CALENDAR_END - first_monday).days // 7) + 1
        self.week_starts = [first_monday + dt.timedelta(days=7 * w) for w in range(weeks)]
        # D4 RIN: log price with momentum in its weekly changes, mean-reverting to ~$1
        change, level = 0.0, np.log(0.9)
        d4 = np.empty(weeks)
        shocks = rng.standard_normal(weeks)
        for w in range(weeks):
            change = 0.55 * change + 0.055 * shocks[w] - 0.015 * (level - np.log(1.0))
            level += change
            d4[w] = level
        self.rin_log_d4 = d4
        spread = _ar1(rng, weeks, 0.97, 0.03)
        self.rin_log_d6 = d4 + np.log(0.85) + spread  # D6 trades below D4, co-moving
        self.rin_log_d5 = d4 + np.log(0.95) + _ar1(rng, weeks, 0.97, 0.02)
        self.rin_log_d3 = d4 + np.log(1.9) + _ar1(rng, weeks, 0.98, 0.05)
        self.rin_published = [ws + dt.timedelta(days=10) for ws in self.week_starts]
        # China soybean export sales: weekly surprise vs seasonal norm (z units), week ending
        # Thursday, released the following Thursday
        self.china_surprise = rng.standard_normal(weeks)
        self.china_week_ending = [ws + dt.timedelta(days=3) for ws in self.week_starts]
        self.china_published = [we + dt.timedelta(days=7) for we in self.china_week_ending]

    def _weekly_known(self, published: list[dt.date]) -> np.ndarray:
        """For each session, index of the latest week published on or before it (-1: none)."""
        pub = np.array(published, dtype="datetime64[D]")
        return np.searchsorted(pub, self.sessions, side="right") - 1

    def _signal_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """RIN momentum and China components as known at each session's end (z units)."""
        n = self.n_days
        rin_idx = self._weekly_known(self.rin_published)
        momentum = np.zeros(len(self.rin_log_d4))
        momentum[4:] = self.rin_log_d4[4:] - self.rin_log_d4[:-4]
        momentum_sd = np.std(momentum[4:]) or 1.0
        rin_z = np.where(rin_idx >= 4, momentum[np.clip(rin_idx, 0, None)] / momentum_sd, 0.0)
        decayed = np.zeros(len(self.china_surprise))
        level = 0.0
        for w, value in enumerate(self.china_surprise):
            level = 0.7 * level + value
            decayed[w] = level
        decayed /= np.std(decayed) or 1.0
        china_idx = self._weekly_known(self.china_published)
        china_z = np.where(china_idx >= 0, decayed[np.clip(china_idx, 0, None)], 0.0)
        assert rin_z.shape == (n,) and china_z.shape == (n,)
        return rin_z, china_z

    # ------------------------------------------------------------------ rates
    def _rates(self, rng: np.random.Generator) -> None:
        n = self.n_days
        self.cycle = np.clip(_ar1(rng, n, 0.9985, 0.022, start=0.4) - 1.2 * self.stress_smooth, -1.5, 1.5)
        meetings = set()
        for year in range(calendar.CALENDAR_START.year, calendar.CALENDAR_END.year + 1):
            for month, day in FOMC_MEETINGS:
                idx = calendar.index_of(dt.date(year, month, day))
                if idx < n:
                    meetings.add(idx)
        upper = np.empty(n)
        level = 2.25
        for i in range(n):
            if i in meetings:
                desired = np.clip(2.75 + 2.4 * self.cycle[i] - 2.5 * self.stress_smooth[i], 0.25, 5.5)
                gap = desired - level
                if gap > 1.25:
                    level += 0.50
                elif gap > 0.3:
                    level += 0.25
                elif gap < -1.25:
                    level -= 0.50 if level > 0.75 else level - 0.25
                elif gap < -0.3:
                    level -= 0.25
                level = float(np.clip(level, 0.25, 5.5))
            upper[i] = level
        self.fed_upper = upper
        self.fed_lower = upper - 0.25
        self.effr = np.clip(self.fed_lower + 0.08 + _ar1(rng, n, 0.9, 0.012), self.fed_lower + 0.01, upper - 0.01)
        mid = upper - 0.125
        expected = np.clip(2.75 + 2.4 * self.cycle - 2.5 * self.stress_smooth, 0.125, 5.4)
        self.y3m = np.clip(mid + 0.2 * (expected - mid) + _ar1(rng, n, 0.95, 0.02), 0.0, None)
        self.y2 = np.clip(mid + 0.55 * (expected - mid) + 0.15 + _ar1(rng, n, 0.985, 0.035), 0.05, None)
        # the 10y term spread: daily innovations driven by the rates factor (bonds up = yields down)
        rates_f = self.factors[:, FACTORS.index("rates")]
        slope = np.empty(n)
        level = 1.3
        for i in range(n):
            target = 1.2 - 0.7 * self.cycle[i]
            level += 0.004 * (target - level) - 0.045 * rates_f[i] * self.vol_mult[i] ** 0.5
            slope[i] = level
        self.y10 = np.clip(self.y2 + slope, 0.3, None)
        self.y5 = self.y2 + 0.55 * (self.y10 - self.y2) + _ar1(rng, n, 0.95, 0.01)
        self.y30 = self.y10 + 0.35 + 0.25 * (self.y10 - self.y2) + _ar1(rng, n, 0.97, 0.015)
        self.yields = {"y3m": self.y3m, "y2": self.y2, "y5": self.y5, "y10": self.y10, "y30": self.y30}

    # ------------------------------------------------------------------ markets
    def _contracts(self, spec: SymbolSpec) -> list[ListedContract]:
        contracts = []
        for year in range(calendar.CALENDAR_START.year - 1, calendar.CALENDAR_END.year + 2):
            for month in contract_months(spec):
                day = nominal_expiry(spec, year, month)
                expiry_index = calendar.index_of(day)
                if day > calendar.CALENDAR_END:  # beyond the calendar: count weekdays
                    expiry_index = self.n_days + (day - calendar.CALENDAR_END).days * 5 // 7
                if expiry_index > 0:
                    contracts.append(ListedContract(spec.root, year, month, expiry_index, instrument_id(spec.root, year, month)))
        contracts.sort(key=lambda c: c.expiry_index)
        return contracts

    def _markets(self, rng: np.random.Generator) -> None:
        n, k = self.n_days, len(self.symbols)
        sd = np.zeros(k)
        drift = np.zeros(k)
        loadings = np.zeros((k, len(FACTORS)))
        for j, spec in enumerate(self.symbols):
            params = spec.sample
            sd[j] = params.get("vol", 0.0) / np.sqrt(252)
            drift[j] = params.get("drift", 0.0) / 252
            for name, weight in params.get("factors", {}).items():
                loadings[j, FACTORS.index(name)] = weight
        idio_weight = np.sqrt(np.clip(1.0 - (loadings**2).sum(axis=1), 0.05, None))
        shocks = (self.factors @ loadings.T + self.idio * idio_weight) * sd * self.vol_mult[:, None]
        log_spot = np.zeros((n, k))
        for j, spec in enumerate(self.symbols):
            log_spot[0, j] = np.log(spec.sample.get("price", 1.0))
        anchor = log_spot[0].copy()
        reversion = np.array([
            REVERSION if s.bucket in REVERTING_BUCKETS and not s.sample.get("random_walk") else 0.0
            for s in self.symbols
        ])

        zl, zs, zm = (self.root_index[r] for r in ("ZL", "ZS", "ZM"))
        rin_z, china_z = self._signal_inputs()
        crush_z = np.zeros(n)
        planted = np.zeros(n)
        for i in range(1, n):
            prev = log_spot[i - 1]
            crush = 0.11 * np.exp(prev[zl]) + 0.022 * np.exp(prev[zm]) - np.exp(prev[zs]) / 100.0
            crush_z[i - 1] = np.clip((crush - CRUSH_ANCHOR) / CRUSH_SCALE, -4, 4)
            planted[i - 1] = (
                SIGNAL_WEIGHTS["crush"] * crush_z[i - 1]
                + SIGNAL_WEIGHTS["rin"] * rin_z[i - 1]
                + SIGNAL_WEIGHTS["china"] * china_z[i - 1]
            ) / np.sqrt(sum(w * w for w in SIGNAL_WEIGHTS.values()))
            step = drift + shocks[i] - reversion * (prev - anchor)
            # crushers bid beans and offer meal when margins are wide: keeps the crush stationary
            step[zs] += 0.0011 * crush_z[i - 1] * CRUSH_SCALE
            step[zm] -= 0.0011 * crush_z[i - 1] * CRUSH_SCALE
            step[zl] += self.signal * KAPPA * planted[i - 1]
            log_spot[i] = prev + step
        self.crush_z = crush_z
        self.planted_signal = planted
        self.rin_z, self.china_z = rin_z, china_z

        # rates futures follow the yield they track; STIR futures are 100 - rate
        for j, spec in enumerate(self.symbols):
            params = spec.sample
            if "yield" in params:
                y = self.yields[{"DGS2": "y2", "DGS5": "y5", "DGS10": "y10", "DGS30": "y30"}[params["yield"]]]
                log_spot[:, j] = np.log(params["price"]) - params["duration"] * (y - y[0]) / 100.0
            elif "rate" in params:
                rate = self.effr if params["rate"] == "EFFR" else self.y3m
                log_spot[:, j] = np.log(100.0 - rate)
        # micro and mini contracts track their parent, up to tiny noise
        for j, spec in enumerate(self.symbols):
            parent = spec.sample.get("tracks")
            if parent:
                log_spot[:, j] = log_spot[:, self.root_index[parent]] + rng.standard_normal(n) * 0.0002
        self.log_spot = log_spot
        self.daily_sd = np.array(
            [sd[self.root_index[s.sample["tracks"]]] if s.sample.get("tracks") else sd[j] for j, s in enumerate(self.symbols)]
        )
        # derived markets (rates) take their realised volatility as their scale
        realised = np.std(np.diff(log_spot, axis=0), axis=0)
        self.daily_sd = np.where(self.daily_sd > 0, self.daily_sd, realised)

        # term structure: annualised log carry of deferred over front, slowly varying
        carry = np.array([s.sample.get("carry", 0.0) for s in self.symbols])
        self.basis = carry[None, :] + np.stack([_ar1(rng, n, 0.995, 0.004) for _ in range(k)], axis=1)
        self.basis[:, [j for j, s in enumerate(self.symbols) if "yield" in s.sample or "rate" in s.sample]] = 0.0
        self.contracts = {s.root: self._contracts(s) for s in self.symbols}
        self.front = {}
        for spec in self.symbols:
            expiries = np.array([c.expiry_index for c in self.contracts[spec.root]])
            # calendar roll: the front month is the nearest contract that has not expired
            self.front[spec.root] = np.searchsorted(expiries, np.arange(n), side="left")

    def contract_log_price(self, root: str, contract: ListedContract, index: np.ndarray) -> np.ndarray:
        j = self.root_index[root]
        tau = (contract.expiry_index - index) / 252.0
        return self.log_spot[index, j] + self.basis[index, j] * tau

    def listed_from(self, root: str) -> int:
        return calendar.index_of(self.symbols[self.root_index[root]].listed)

    # ------------------------------------------------------------------ volatility indices
    def _vol_indices(self, rng: np.random.Generator) -> None:
        n = self.n_days
        es = self.root_index["ES"]
        cl = self.root_index["CL"]
        eq_shock = np.zeros(n)
        eq_shock[1:] = np.diff(self.log_spot[:, es]) / self.daily_sd[es]
        u = np.empty(n)
        level = 0.0
        noise = rng.standard_normal(n)
        for i in range(n):
            level = 0.95 * level + 0.05 * noise[i] - 0.03 * eq_shock[i]
            u[i] = level
        self.vix = 100 * np.sqrt(252) * self.daily_sd[es] * 1.15 * self.vol_mult * np.exp(u)
        self.ovx = 100 * np.sqrt(252) * self.daily_sd[cl] * 1.1 * self.vol_mult * np.exp(_ar1(rng, n, 0.95, 0.06))
        self.stlfsi = -0.6 + 2.4 * self.stress_smooth + _ar1(rng, n, 0.98, 0.04)
        self.nfci = -0.45 + 1.3 * self.stress_smooth + _ar1(rng, n, 0.99, 0.01)

    # ------------------------------------------------------------------ slow macro
    def _macro_latents(self, rng: np.random.Generator) -> None:
        n = self.n_days
        cl = self.root_index["CL"]
        oil_6m = np.zeros(n)
        oil_6m[126:] = self.log_spot[126:, cl] - self.log_spot[:-126, cl]
        self.breakeven5 = 2.0 + 0.9 * oil_6m + _ar1(rng, n, 0.98, 0.02)
        self.unrate = np.clip(4.9 - 1.6 * self.cycle + 2.5 * self.stress_smooth + _ar1(rng, n, 0.995, 0.01), 3.2, 11.0)
        # growth indices accumulate daily log growth; monthly samples are taken from these paths
        oil_1d = np.zeros(n)
        oil_1d[1:] = np.diff(self.log_spot[:, cl])

        def index(start: float, annual: float, cycle_beta: float, stress_beta: float, noise: float, oil: float = 0.0):
            growth = (annual + cycle_beta * self.cycle - stress_beta * self.stress_smooth) / 252
            growth = growth + oil * oil_1d + rng.standard_normal(n) * noise
            return start * np.exp(np.cumsum(growth))

        self.cpi = index(190.7, 0.024, 0.004, 0.02, 0.0006, oil=0.012)
        self.pce = index(88.0, 0.021, 0.003, 0.015, 0.0005, oil=0.008)
        self.indpro = index(95.0, 0.012, 0.03, 0.12, 0.002)
        self.retail = index(330_000, 0.04, 0.02, 0.15, 0.002)
        self.gdp = index(12_700, 0.045, 0.02, 0.10, 0.0008)
        self.m1 = index(1_370, 0.05, -0.01, -0.25, 0.0015)
        self.m2 = index(6_450, 0.055, -0.01, -0.12, 0.001)
        self.payems = index(132_000, 0.014, 0.015, 0.05, 0.0003)
        self.icsa = 320_000 * np.exp(-0.22 * self.cycle + 0.9 * self.stress_smooth + _ar1(rng, n, 0.9, 0.04))
        es, nq = self.root_index["ES"], self.root_index["NQ"]
        fx_weights = {"6E": -0.30, "6J": -0.12, "CNH": 0.15, "6M": -0.13, "6C": -0.14, "6B": -0.05, "6S": -0.03, "6A": -0.03, "6L": -0.05}
        broad = sum(w * self.log_spot[:, self.root_index[r]] for r, w in fx_weights.items())
        self.broad_dollar = 100 * np.exp(broad - broad[calendar.index_of(dt.date(2006, 1, 2))])
        self.latents = {
            "effr": self.effr, "fed_upper": self.fed_upper, "fed_lower": self.fed_lower,
            "y3m": self.y3m, "y2": self.y2, "y5": self.y5, "y10": self.y10, "y30": self.y30,
            "t10y2y": self.y10 - self.y2, "t10y3m": self.y10 - self.y3m,
            "vix": self.vix, "ovx": self.ovx, "stlfsi": self.stlfsi, "nfci": self.nfci,
            "breakeven5": self.breakeven5, "unrate": self.unrate, "cpi": self.cpi, "pce": self.pce,
            "indpro": self.indpro, "retail": self.retail, "gdp": self.gdp, "m1": self.m1, "m2": self.m2,
            "payems": self.payems, "icsa": self.icsa, "broad_dollar": self.broad_dollar,
        }
        del es, nq

    # ------------------------------------------------------------------ bars
    def intraday(self, day: int) -> dict[str, np.ndarray]:
        """Standardised intraday shocks of one session (fixed by seed and day): per root, a
        Brownian bridge of 24 steps and the high/low excursions of each step."""
        rng = np.random.Generator(np.random.PCG64([self.seed, 0xB0B, day]))
        k = len(self.symbols)
        steps = rng.standard_normal((k, 24))
        walk = np.cumsum(steps, axis=1)
        ramp = np.arange(1, 25) / 24.0
        bridge = walk - ramp[None, :] * walk[:, -1:]
        return {
            "bridge": np.concatenate([np.zeros((k, 1)), bridge], axis=1) / np.sqrt(24.0),
            "up": np.abs(rng.standard_normal((k, 24))) / np.sqrt(24.0),
            "down": np.abs(rng.standard_normal((k, 24))) / np.sqrt(24.0),
            "volume": np.exp(0.35 * rng.standard_normal(k)),
        }

    def _daily_bars(self) -> None:
        """Daily high/low of the spot path (log offsets from the close) and volume scale: the
        extremes of the session's intraday path, so hourly bars aggregate exactly to daily."""
        n, k = self.n_days, len(self.symbols)
        self.day_high = np.zeros((n, k))
        self.day_low = np.zeros((n, k))
        self.day_volume_scale = np.ones((n, k))
        for i in range(1, n):
            day = self._intraday_path(i)
            self.day_high[i] = day.upper.max(axis=1) - day.path[:, -1]
            self.day_low[i] = day.lower.min(axis=1) - day.path[:, -1]
            self.day_volume_scale[i] = day.volume_scale

    def _intraday_path(self, day: int) -> "IntradayPath":
        shocks = self.intraday(day)
        prev, close = self.log_spot[day - 1], self.log_spot[day]
        scale = (self.daily_sd * self.vol_mult[day])[:, None]
        ramp = np.arange(25) / 24.0
        path = prev[:, None] + ramp[None, :] * (close - prev)[:, None] + shocks["bridge"] * scale
        upper = np.maximum(path[:, :-1], path[:, 1:]) + 0.5 * shocks["up"] * scale
        lower = np.minimum(path[:, :-1], path[:, 1:]) - 0.5 * shocks["down"] * scale
        return IntradayPath(path, upper, lower, shocks["volume"])

    @lru_cache(maxsize=512)  # noqa: B019 (one world per process: the cache may keep it alive)
    def intraday_path(self, day: int) -> "IntradayPath":
        """Log spot path over the session in 24 steps (25 points, previous close to close) with
        each step's high and low: absolute log levels, one row per root."""
        return self._intraday_path(day)


@dataclass(frozen=True)
class IntradayPath:
    path: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    volume_scale: np.ndarray


@lru_cache(maxsize=2)
def get_world(seed: int, signal: float, config_dir: Path) -> World:
    return World(seed, signal, Path(config_dir))
