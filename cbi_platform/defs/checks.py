"""Turn plain-Python check outcomes into Dagster asset check results and specs."""


import json
from collections.abc import Iterable

import dagster as dg

from cbi_platform.lib.quality import CheckOutcome


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


def specs(asset_key: dg.AssetKey, checks: Iterable[tuple[str, str, bool]]) -> list[dg.AssetCheckSpec]:
    """(name, description, blocking) -> specs for `check_specs=`."""
    return [dg.AssetCheckSpec(name, asset=asset_key, description=description, blocking=blocking)
            for name, description, blocking in checks]
