"""Garbage collections that walk only what a piece of work creates."""

from __future__ import annotations

import functools
import gc
import threading

# uses in progress in this process (nested, or threads if a Dask worker runs more than one): the last to end unfreezes
_depth = 0
_depth_lock = threading.Lock()


def existing_objects_frozen(function):
    """Decorator: the objects alive when `function` starts sit in the collector's permanent
    generation until it ends (gc.freeze), so a full collection during it skips them: AutoGluon
    runs `gc.collect()` after every model it fits, and a Dagster process holds far more objects
    than a fit creates. New objects are collected as before. A reference cycle among the frozen
    objects that becomes garbage meanwhile waits for the unfreeze, which comes when the last use
    in progress ends (overlapping uses share the first one's freeze), whether it returns or raises."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global _depth
        with _depth_lock:
            if _depth == 0:
                gc.freeze()
            _depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            with _depth_lock:
                _depth -= 1
                if _depth == 0:
                    gc.unfreeze()

    return wrapper
