"""What a reader keeps for each store: results made from postings, which never change, kept with
the store they came from and dropped with it (a reset or a restore swaps in a new store)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from sandbox.state.store import Store

T = TypeVar("T")


class PerStore(Generic[T]):
    """One `make()` a store, found again for each request: the store read last without a weak
    reference made per request (nearly every request reads the store the one before read)."""

    __slots__ = ("_make", "_stores", "_last")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._stores: weakref.WeakKeyDictionary[Store, T] = weakref.WeakKeyDictionary()
        self._last: tuple[weakref.ref[Store], T] | None = None

    def of(self, store: "Store") -> T:
        last = self._last
        if last is not None and last[0]() is store:
            return last[1]
        kept = self._stores.get(store)
        if kept is None:
            kept = self._stores[store] = self._make()
        self._last = (weakref.ref(store), kept)
        return kept
