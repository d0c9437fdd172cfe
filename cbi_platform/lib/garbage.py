"""Garbage collections that walk only what a piece of work creates."""

from __future__ import annotations

import functools
import gc
import threading

# uses in progress in this process (nested, or threads of a Dask worker): the last one to end unfreezes
_depth = 0
_depth_lock = threading.Lock()


def existing_objects_frozen(function):
    """Decorator: the objects alive when `function` starts sit in the collector's permanent
    generation until it ends (gc.freeze), so a full collection during it walks only what it
    creates. AutoGluon runs `gc.collect()` after every model it fits; in a Dagster process, with
    the definitions and the run's events alive (~500,000 objects), each one took 0.25 s. What
    `function` creates is collected as before; the frozen objects return to the oldest
    generation afterwards, whether it returns or raises."""

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
