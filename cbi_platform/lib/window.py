"""The unit of work everywhere: a half-open window of publication dates, one or many daily
partitions. Sources fetch it, the warehouse replaces it, the checks and alerts judge it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Window:
    """A half-open date window [start, end) of publication dates (`as_of_date`).

    `include_history` marks the first partition of an asset: it also carries what was published
    before `start` (FRED history, reference tables), so the warehouse is complete from day one.
    """

    start: dt.date
    end: dt.date
    include_history: bool = False

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"empty window {self.start}..{self.end}")

    @property
    def label(self) -> str:
        last = self.end - dt.timedelta(days=1)
        label = self.start.isoformat() if last == self.start else f"{self.start}_{last}"
        return f"{label}+history" if self.include_history else label

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return (self.include_history or day >= self.start) and day < self.end

    def contains_all(self, days) -> pd.Series:
        """Vectorised `contains` over a column of dates (or timestamps): a boolean Series."""
        import pandas as pd

        stamps = pd.to_datetime(pd.Series(days))
        inside = stamps < pd.Timestamp(self.end)
        if not self.include_history:
            inside &= stamps >= pd.Timestamp(self.start)
        return inside

    def overlaps(self, other: "Window") -> bool:
        starts_before_other_ends = self.start < other.end or self.include_history
        return starts_before_other_ends and (other.start < self.end or other.include_history)

    def clipped(self, today: dt.date) -> "Window | None":
        """The part of the window that is not in the future (nothing is published after today)."""
        end = min(self.end, today + dt.timedelta(days=1))
        if end <= self.start:
            return None
        return Window(self.start, end, self.include_history)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days)]
