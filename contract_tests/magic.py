"""The magic values of the fixtures a target runs (README, "Magic values"): inputs that always
bring one outcome (13.13 resets the connection, 7.77 cuts the body, mobile 9999900504 holds 30 s,
...). Generated data must never carry one, or a test would pass or fail by luck, so the suite
reads the table from the fixtures it runs against (the in-process sandbox's own documents, the
bundled defaults, and any `--sandbox-fixtures` file) and keeps every generated value clear of it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from .links import Settings, read_fixtures

CENT = Decimal("0.01")


def _key(value: Any) -> Any:
    """Numbers compare by value (13.13 == 13.130, and "13.13" as digits in a string), as the sandbox matches them."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        try:
            return Decimal(value).normalize() if value.strip() and value.replace(".", "", 1).isdigit() else value
        except ArithmeticError:
            return value
    return repr(value)


class MagicTable:
    """Field name -> the magic values of that field, from every fixture document given."""

    def __init__(self, entries: Iterable[dict[str, Any]] = ()) -> None:
        self.by_field: dict[str, set[Any]] = {}
        for entry in entries:
            self.by_field.setdefault(entry["field"], set()).add(_key(entry["value"]))

    @classmethod
    def of_documents(cls, documents: Iterable[dict[str, Any]]) -> "MagicTable":
        return cls(entry for doc in documents for entry in doc.get("magicValues", []) or [])

    @classmethod
    def of_files(cls, paths: Iterable[Path], bundled: bool = True) -> "MagicTable":
        """The bundled default fixtures' table (what a sandbox started without --fixtures uses) and the given files'."""
        files = [Settings().fixtures_path()] if bundled else []
        return cls.of_documents(read_fixtures(path) for path in [*files, *paths])

    def __len__(self) -> int:
        return sum(len(values) for values in self.by_field.values())

    def is_magic(self, field: str, value: Any) -> bool:
        return _key(value) in self.by_field.get(field, ())

    def hits(self, body: Any) -> list[tuple[str, Any]]:
        """Every (field, value) of `body`, at any depth, that is a magic value."""
        found: list[tuple[str, Any]] = []
        pending = [body]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                found += [(k, v) for k, v in item.items() if k in self.by_field and self.is_magic(k, v)]
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
        return found

    def amount(self, wanted: Decimal, field: str = "loadAmount") -> Decimal:
        """`wanted`, or the next cent up that is not magic (2.22 -> 2.23)."""
        amount = Decimal(wanted).quantize(CENT)
        while self.is_magic(field, amount) or self.is_magic("amount", amount):
            amount += CENT
        return amount

    def describe(self) -> str:
        return ", ".join(f"{field} {sorted(map(str, values))}" for field, values in sorted(self.by_field.items())) or "none"
