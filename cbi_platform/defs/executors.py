"""Where steps run, one choice for every job (README "Scaling out"): CBI_EXECUTOR.

- `multiprocess` (default): a process per step on this machine;
- `dask`: each step a task on the Dask cluster whose scheduler is CBI_DASK_SCHEDULER;
- `k8s`: each step a Kubernetes Job (defs/k8s.py: image, per-step resources, secrets).
"""

import dagster as dg

from cbi_platform.lib.settings import Settings


def warehouse_pool(settings: Settings) -> str | None:
    """The Dagster pool of every step that writes the warehouse: one slot, DuckDB's one writer.
    The Dask executor neither honours pools nor survives them (dagster-dask 0.29 cannot submit a
    run that has any to dask >= 2024.12: dask walks the run's fields, and Dagster forbids iterating
    its pool record), so on Dask the warehouse orders its writers itself: DuckDB's file lock, which
    lib.warehouse.connect waits on, or the MotherDuck service."""
    return None if settings.executor == "dask" else "warehouse"


def training_pool(settings: Settings) -> str | None:
    """The pool of every training step: one slot on one machine (AutoGluon already uses every
    core; two fits side by side only slow each other), more where a deployment sets a higher
    limit (deploy/k8s/values.yaml); none on Dask, for the reason above."""
    return None if settings.executor == "dask" else "training"


def step_executor(settings: Settings) -> dg.ExecutorDefinition:
    if settings.executor == "dask":
        if not settings.dask_scheduler:
            raise ValueError("CBI_EXECUTOR=dask needs CBI_DASK_SCHEDULER, the scheduler's address (tcp://host:8786)")
        from dagster_dask import dask_executor

        return dask_executor.configured({"cluster": {"existing": {"address": settings.dask_scheduler}}}, name="dask")
    if settings.executor == "k8s":
        from cbi_platform.defs.k8s import k8s_executor

        return k8s_executor(settings)
    return dg.multiprocess_executor
