"""Dropping a big store off the request path.

A reset (or a restored document) replaces the Store; freeing the old one walks every posting,
string and index entry it holds, about 0.25 ms per 1,000 postings, all in one C call that never
lets the event loop run: the first reset after a load of 1,000,000 postings took a quarter of a
second or more. `discard` hands the old store to one background thread, which takes it apart a
few thousand items at a time and sleeps between batches, so the server answers in between.

Only what nobody else holds is taken apart: a store (or one of its containers) that anything but
the reaper still refers to (a caller that kept it, a test) is left whole and freed when they let
go, as before. A small store (the fixtures) is freed at once, in the caller.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import Any

BATCH = 2_000  # items freed between two pauses: about 0.5 ms of work
SMALL = 20_000  # a store with fewer postings is freed at once by the caller


class Reaper:
    def __init__(self) -> None:
        self._pending: deque[Any] = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def discard(self, store: Any) -> None:
        """Take the caller's old store; the caller must drop its own reference after this call."""
        if len(store.ledger.postings) < SMALL:
            return
        self._idle.clear()
        self._pending.append(store)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-reaper", daemon=True)
                self._thread.start()
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Until every store handed over is freed (for benches and tests)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._pending:
                store = self._pending.popleft()
                try:
                    for _ in range(100):  # the caller lets go of its reference as soon as it returns
                        if sys.getrefcount(store) == 2:  # this frame and getrefcount's argument: nobody else has it
                            _take_apart(store)
                            break
                        time.sleep(0.001)
                except Exception:  # noqa: BLE001 - what is left is freed whole below; the thread must live on
                    logging.getLogger(__name__).exception("reaper: a store could not be taken apart; freed whole")
                del store
            self._idle.set()


def _take_apart(record: Any) -> None:
    """Empty the containers `record` alone holds, and those of the objects it alone holds (the
    ledger), a batch at a time, whatever their size: a small one may hold a big one (a scope's
    references, the coin lots of one user). Twice over: an attribute that only points at others
    (the store's id draws hold its tables' lookups) lets go of them in the first pass, which leaves
    them ours alone for the second; freeing them whole with the store took 60 ms in one call."""
    for _ in range(2):
        for name in list(vars(record)):
            value = vars(record)[name]
            if sys.getrefcount(value) != 3:  # attribute, this frame's `value`, getrefcount's argument
                pass  # somebody else holds it: not ours to take apart (yet)
            elif isinstance(value, _CONTAINERS):
                delattr(record, name)  # ours alone now
                _drain(value)
            elif hasattr(value, "__dict__") and not isinstance(value, type):
                _take_apart(value)  # the ledger: held by the store alone
            del value


_CONTAINERS = (list, dict, set)


def _drain(container: list[Any] | dict[Any, Any] | set[Any], done: int = 0) -> int:
    """Empty `container`, and the containers it alone holds, pausing after each BATCH of items
    freed; `done` carries the count since the last pause through the nesting."""
    if isinstance(container, list):
        while container:
            cut = min(len(container), BATCH)
            del container[-cut:]
            done = _paced(done + cut)
        return done
    if isinstance(container, set):
        while container:
            container.pop()
            done = _paced(done + 1)
        return done
    while container:
        _key, value = container.popitem()
        del _key
        if isinstance(value, _CONTAINERS) and sys.getrefcount(value) == 2:  # `value`, getrefcount's argument
            done = _drain(value, done)  # a nested index: a scope's references, a user's coin lots
        del value
        done = _paced(done + 1)
    return done


def _paced(done: int) -> int:
    if done < BATCH:
        return done
    time.sleep(0)  # lets the event loop's thread have the GIL
    return 0


REAPER = Reaper()
