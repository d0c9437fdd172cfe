"""Declarative automation shared by the derived assets."""

import dagster as dg


def on_upstream_update() -> dg.AutomationCondition:
    """Refresh when an upstream asset lands, never while the upstream's latest partition is
    missing or an upstream run is in progress (so a half-ingested day is never consumed)."""
    latest_missing = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.in_latest_time_window() & dg.AutomationCondition.missing()
    )
    return (
        (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
        & ~latest_missing
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("refresh when upstream lands")


def on_any_upstream_update() -> dg.AutomationCondition:
    """Run when any upstream asset lands, even while others were never materialised (a model not
    trained in this deployment, such as MES in files mode, must not hold back the rest)."""
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("run when any upstream lands")
