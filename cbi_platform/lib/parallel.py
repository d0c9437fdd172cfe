"""Worker processes that libraries leave behind when their work is done."""

from __future__ import annotations

import functools


def release_joblib_workers() -> None:
    """joblib's loky executor keeps its worker processes alive for 300 s of idleness, and a
    process started by multiprocessing (a Dagster step) waits for them at exit: the step then
    holds its `warehouse` pool slot for five idle minutes. Shut them down once the work is done
    (the executor is created lazily, so asking for it spawns nothing)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def joblib_workers_released(function):
    """Decorator: `release_joblib_workers` after `function`, whether it returns or raises."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            release_joblib_workers()

    return wrapper
