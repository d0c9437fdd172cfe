"""Asset checks declared once (`lib.quality.Check`): their Dagster specs and, from the same objects, their results."""


import json
from collections.abc import Iterable, Sequence

import dagster as dg

from cbi_platform.lib.quality import Check, CheckOutcome, by_name, evaluate


def _metadata_value(value):
    if isinstance(value, (dict, list)):
        return dg.MetadataValue.json(json.loads(json.dumps(value, default=str)))
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def to_result(outcome: CheckOutcome, asset_key: dg.AssetKey | None = None) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.WARN if outcome.severity == "WARN" else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=outcome.name,
        passed=bool(outcome.passed),
        severity=severity,
        description=outcome.description,
        metadata={k: _metadata_value(v) for k, v in outcome.metadata.items()},
    )


def specs(asset_key: dg.AssetKey, checks: Iterable[Check]) -> list[dg.AssetCheckSpec]:
    """The checks' specs for `check_specs=`."""
    return [dg.AssetCheckSpec(c.name, asset=asset_key, description=c.description, blocking=c.blocking) for c in checks]


def results(checks: Sequence[Check], subject, asset_key: dg.AssetKey | None = None) -> list[dg.AssetCheckResult]:
    """Evaluate the checks (the same objects that gave the specs) and convert their outcomes."""
    return [to_result(o, asset_key) for o in evaluate(checks, subject)]


def reported(checks: Sequence[Check], outcomes: Iterable[CheckOutcome], asset_key: dg.AssetKey | None = None
             ) -> list[dg.AssetCheckResult]:
    """Results of `Check.reported` checks from the outcomes a step computed together: exactly
    the declared ones, in declaration order."""
    return results(checks, by_name(outcomes, checks), asset_key)
