"""What a fetch needs besides the window: the mode, where payloads land, how to reach HTTP."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sources.base import MODES, MissingCredential, RetryConfig
from cbi_platform.lib.window import Window

SAMPLE_KEY = "sample-world-key"


@dataclass
class FetchContext:
    mode: str
    landing: LandingZone
    files_dir: Path
    config_dir: Path
    today: dt.date = field(default_factory=dt.date.today)
    transport: object | None = None  # httpx transport: the sample world's in sample mode, None for the network
    retry: RetryConfig = field(default_factory=RetryConfig)
    # how far back the first partition (Window.include_history) reaches for sources whose
    # history must be fetched by date range (futures bars); GLBX.MDP3 starts 2010-06-06
    history_start: dt.date = dt.date(2010, 6, 6)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown source mode {self.mode!r}; expected one of {MODES}")

    def secret(self, source: str, window: Window, env_var: str) -> str:
        """An API key: from the environment in live mode (fail fast, naming the variable);
        the sample world accepts a placeholder."""
        if self.mode == "sample":
            return SAMPLE_KEY
        value = os.environ.get(env_var, "").strip()
        if not value:
            raise MissingCredential(source, window, f"live mode needs the environment variable {env_var}")
        return value

    def http(self, source: str, window: Window, secrets: list[str] = ()):
        from cbi_platform.lib.http import HttpClient  # httpx is imported when a fetch needs it
        from cbi_platform.lib.sources.limits import limits_for

        return HttpClient(source, window, secrets=secrets, retry=self.retry, transport=self.transport,
                          limits=limits_for(self.config_dir, source))
