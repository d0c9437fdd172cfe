"""Session arithmetic of the simulated world: the real CME calendar and trading hours
(cbi_platform.lib.calendar), re-exported under the names the renderers use."""

from cbi_platform.lib.calendar import CALENDAR_END as WORLD_END  # noqa: F401
from cbi_platform.lib.calendar import CALENDAR_START as WORLD_START  # noqa: F401
from cbi_platform.lib.calendar import bar_hours, index_of, session_dates, session_range, sessions  # noqa: F401
