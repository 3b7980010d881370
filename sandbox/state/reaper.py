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
                for _ in range(100):  # the caller lets go of its reference as soon as it returns
                    if sys.getrefcount(store) == 2:  # this frame and getrefcount's argument: nobody else has it
                        _take_apart(store)
                        break
                    time.sleep(0.001)
                del store
            self._idle.set()


def _take_apart(record: Any) -> None:
    """Empty the big containers of `record` and of the objects it holds (the ledger), a batch at a time."""
    for name in list(vars(record)):
        value = vars(record)[name]
        if hasattr(value, "__dict__") and not isinstance(value, type) and sys.getrefcount(value) == 3:
            _take_apart(value)  # the ledger: held by the store alone
        elif isinstance(value, (list, dict)) and len(value) > BATCH and sys.getrefcount(value) == 3:
            delattr(record, name)  # attribute, this frame's `value`, getrefcount's argument: ours alone now
            _drain(value)
        del value


def _drain(container: list[Any] | dict[Any, Any]) -> None:
    done = 0
    if isinstance(container, list):
        while container:
            del container[-BATCH:]
            time.sleep(0)  # lets the event loop's thread have the GIL
        return
    while container:
        _key, value = container.popitem()
        if isinstance(value, (list, dict)) and len(value) > BATCH and sys.getrefcount(value) == 2:
            _drain(value)  # a nested index (references by scope)
        del _key, value
        done += 1
        if done % BATCH == 0:
            time.sleep(0)


REAPER = Reaper()
