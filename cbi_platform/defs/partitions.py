"""Partitions shared by every raw asset: one per publication day (UTC), from the configured
start (default 2010-06-06, where Databento GLBX.MDP3 history begins) through today."""

import dagster as dg

from cbi_platform.defs.settings import SETTINGS

# CBI_END_DATE closes the range (files mode on exports that end in the past); by default the
# partitions run through today
daily_partitions = (
    dg.DailyPartitionsDefinition(start_date=SETTINGS.start_date.isoformat(), end_date=SETTINGS.end_date.isoformat())
    if SETTINGS.end_date else dg.DailyPartitionsDefinition(start_date=SETTINGS.start_date.isoformat(), end_offset=1))
