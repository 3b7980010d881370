"""The JSON Schema files under schemas/: loaded once, compiled once, used for every check.

File names: `<operation>.request.json` (body), `<operation>.query.json` (query string),
`<operation>.payload.json` (the success payload inside its envelope), `<operation>.row.json`
(one bulk row), `<operation>.response.json` (a whole un-enveloped body), `envelope-a.json`,
`envelope-b.json`, `error.payload.json`, `oauth-error.json`. The OpenAPI document and the
contract tests read the same files through `Schemas`.

Two validators read the same documents: jsonschema_rs (compiled Rust, ~7 us a body) answers
"valid?" on every request; only a body it refuses goes to `jsonschema`, the reference, which
finds the first problem and names it (and has the last word if the two ever disagree).
`jsonschema` is imported beside the event loop once a server listens (`preload`), or on the first
refusal where nothing preloaded it; not before the server starts.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import jsonschema_rs

from sandbox.domain import errors

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft7Validator

SCHEMA_DIR = Path(__file__).parent / "schemas"
ENVELOPES = {"A": ("code", "message"), "B": ("response_code", "response_message")}


class Schemas:
    """Each document is read when first asked for: a start needs only their names (all 91 files
    took 6.6 ms to parse, a lazy start 0.8 ms), a route's request its own schema."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self._paths = {path.name[: -len(".json")]: path for path in sorted(directory.glob("*.json"))}
        self._documents: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Draft7Validator] = {}
        self._fast: dict[str, Any] = {}

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        """Every document by name (the OpenAPI document lists them all)."""
        return {name: self.get(name) for name in self._paths}

    def has(self, name: str) -> bool:
        return name in self._paths

    def get(self, name: str) -> dict[str, Any]:
        found = self._documents.get(name)
        if found is None:
            found = self._documents[name] = json.loads(self._paths[name].read_text(), parse_float=Decimal)
        return found

    def enveloped(self, envelope: str, payload_name: str) -> dict[str, Any]:
        """A whole response body: the envelope with its payload slot filled."""
        base = self.get("envelope-" + envelope.lower())
        properties = dict(base["properties"], payload=self.get(payload_name))
        return dict(base, properties=properties)

    def validator(self, name: str, schema: dict[str, Any] | None = None) -> Draft7Validator:
        """The reference validator (jsonschema), built on first use."""
        found = self._validators.get(name)
        if found is None:
            found = _reference()(schema if schema is not None else self.get(name))
            self._validators[name] = found
        return found

    def is_valid(self, name: str, instance: Any, schema: dict[str, Any] | None = None) -> bool:
        """The fast answer, compiled once per name from the same document."""
        fast = self._fast.get(name)
        if fast is None:
            fast = self._fast[name] = _compile_fast(schema if schema is not None else self.get(name))
        try:
            return bool(fast.is_valid(instance))
        except Exception:  # a value the Rust side cannot read: the reference decides
            return False

    def check(self, name: str, instance: Any) -> None:
        """Raise the documented 400/422 for the first problem, naming the field."""
        if self.is_valid(name, instance):
            return
        error = first_error(self.validator(name), instance)
        if error is not None:
            raise to_error(error)

    def problem(self, name: str, instance: Any) -> str | None:
        """The message check() would raise, or None (for per-row checks that must not raise)."""
        try:
            self.check(name, instance)
        except errors.SandboxError as failure:
            return failure.message
        return None

    def response_problem(self, envelope: str | None, payload_name: str, body: Any) -> str | None:
        if envelope in ENVELOPES:
            key = f"{envelope}:{payload_name}"
            schema = self.enveloped(envelope, payload_name)
        else:
            key, schema = payload_name, self.get(payload_name)
        if self.is_valid(key, body, schema):
            return None
        error = first_error(self.validator(key, schema), body)
        return None if error is None else f"{field_path(error.absolute_path) or 'body'}: {error.message}"


def _compile_fast(schema: dict[str, Any]) -> Any:
    # jsonschema does not assert "format" unless asked; neither may the fast path
    return jsonschema_rs.Draft7Validator(integers_first(schema), validate_formats=False)


_DATA = frozenset(("enum", "const", "default", "example", "examples"))  # values there are data, not schemas


def integers_first(schema: Any) -> Any:
    """The document with each `multipleOf` whose value divides 1 (0.01: whole cents) asked only of
    a number that is not an integer, as every integer passes it: `{"multipleOf": m}` becomes one
    more `allOf` entry `{"anyOf": [{"type": "integer"}, {"multipleOf": m}]}`, which accepts
    the same values. jsonschema_rs spends ~6,000 instructions on a fractional multipleOf of any
    number, a third of a top-up's check (its loadAmount is a whole number); "integer?" costs
    little. Only the fast validator's copy, which answers valid or not: the reference, which
    names a problem, reads the document itself."""
    if isinstance(schema, list):
        return [integers_first(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    made = {key: value if key in _DATA else integers_first(value) for key, value in schema.items()}
    multiple = made.get("multipleOf")
    if _divides_one(multiple):
        del made["multipleOf"]
        made["allOf"] = [*made.get("allOf", ()), {"anyOf": [{"type": "integer"}, {"multipleOf": multiple}]}]
    return made


def _divides_one(value: Any) -> bool:
    if value.__class__ not in (int, float, Decimal) or not value > 0:
        return False
    try:
        return Decimal(1) % Decimal(str(value)) == 0
    except InvalidOperation:
        return False


def best_match(path: Path, instance: Any) -> jsonschema.ValidationError | None:
    """jsonschema's best_match against the schema file at `path` (fixtures); None when it is valid.

    The file is read and compiled once per process. It is read as plain JSON (floats, not the
    Decimals a `Schemas` document holds), so the messages quote its numbers as they always have."""
    try:
        if _file_fast(path).is_valid(instance):
            return None
    except Exception:
        pass
    import jsonschema

    return jsonschema.exceptions.best_match(_file_reference(path).iter_errors(instance))


def file_errors(path: Path, instance: Any) -> Iterator[Any]:
    """The problems jsonschema_rs finds against the schema file at `path`, first first: for documents
    too large for the reference validator's full search (a whole state)."""
    return iter(_file_fast(path).iter_errors(instance))  # type: ignore[no-any-return]


@functools.cache
def _file_document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@functools.cache
def _file_fast(path: Path) -> Any:
    return _compile_fast(_file_document(path))


@functools.cache
def _file_reference(path: Path) -> Draft7Validator:
    return _reference()(_file_document(path))


def _multiple_of(validator: Draft7Validator, step: Any, instance: Any, schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    """multipleOf in exact Decimal arithmetic: 1e308 is simply not a multiple of 0.01 (no DivisionImpossible)."""
    if not validator.is_type(instance, "number"):
        return
    try:
        with localcontext() as context:
            context.prec = 64
            exact = Decimal(str(instance)) % Decimal(str(step)) == 0
    except InvalidOperation:
        exact = False
    if not exact:
        import jsonschema

        yield jsonschema.ValidationError(f"{instance} is not a multiple of {step}")


def _pattern(validator: Draft7Validator, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    """`pattern` as ECMA-262 (and jsonschema_rs) read it: `$` is the end of the string. Python's `$`
    also matches before a final newline, so "a@b.com\\n" passed every `^...$` pattern."""
    if validator.is_type(instance, "string") and not whole_string(pattern).search(instance):
        import jsonschema

        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.lru_cache(maxsize=512)
def whole_string(pattern: str) -> re.Pattern[str]:
    """The pattern compiled for Python with every `$` anchor (outside a class, unescaped) as `\\Z`."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def preload() -> None:
    """Import the reference validator now, beside the event loop (tools/server.py, once the
    server listens): imported on a server's first refusal it held the loop 100 to 300 ms, the
    largest health wait of a flood of 8 MiB uploads (bench/hostile.py)."""
    _reference()


@functools.cache
def _reference() -> type[Draft7Validator]:
    """jsonschema's Draft 7 with an exact multipleOf and whole-string patterns; imported on the first
    refusal, not at start."""
    import jsonschema

    return jsonschema.validators.extend(  # type: ignore[no-any-return]
        jsonschema.Draft7Validator, {"multipleOf": _multiple_of, "pattern": _pattern},
    )


class _Long(str):
    """A long string as the reference validator sees it: the same value (every keyword reads it
    alike), a short repr. jsonschema writes repr(instance) into the message of every error, and
    an anyOf's instance is the whole body: for an 8 MiB string that was 60 ms of the event loop
    per refusal, making 16 MB of messages nobody reads (bench/hostile.py: health waited 1.3 s
    while 8 clients sent such bodies)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{str.__repr__(self[:SHOWN_CHARACTERS])}... ({len(self)} characters)"


SHOWN_CHARACTERS = 200
# a list is searched for its first problem in its first SHOWN_ITEMS + 1 items, still more than
# any call's schema allows (1,000 at most), and among the first FIRST_ERRORS problems found: the
# reference validator spends ~10 us an item and ~40 us a problem, and a 1 MiB call of 260,000
# short ids held the event loop 2.6 s (9.5 s if each was refused), where the list's own
# maxItems, which sorts before any item's problem, is the answer anyway
SHOWN_ITEMS = 1000
FIRST_ERRORS = 100


def _shown(value: Any, cut: list[bool] | None = None) -> Any:
    """`value` with every string longer than SHOWN_CHARACTERS (keys included) made a _Long and,
    given `cut`, every list longer than SHOWN_ITEMS cut (noted in `cut`)."""
    if isinstance(value, str):
        return _Long(value) if len(value) > SHOWN_CHARACTERS else value
    if isinstance(value, dict):
        return {_shown(key): _shown(item, cut) for key, item in value.items()}
    if isinstance(value, list):
        if cut is not None and len(value) > SHOWN_ITEMS + 1:
            cut.append(True)
            value = value[:SHOWN_ITEMS + 1]
        return [_shown(item, cut) for item in value]
    return value


def first_error(validator: Draft7Validator, instance: Any) -> jsonschema.ValidationError | None:
    """The problem a refusal names: missing fields first, then by path. Long lists are searched in
    their first items (SHOWN_ITEMS); only if those hold no problem is the whole body searched."""
    cut: list[bool] = []
    found = _sorted_errors(validator, _shown(instance, cut))
    if not found and cut:
        found = _sorted_errors(validator, _shown(instance))
    for error in found:
        _untie(error)
    return found[0] if found else None


def _sorted_errors(validator: Draft7Validator, instance: Any) -> list[jsonschema.ValidationError]:
    found = itertools.islice(validator.iter_errors(instance), FIRST_ERRORS)
    return sorted(found, key=lambda e: (_depth_rank(e), list(map(str, e.absolute_path))))


def _untie(error: jsonschema.ValidationError) -> None:
    """Break the cycle jsonschema makes for anyOf/oneOf (an error holds its sub-errors in
    `context`, each sub-error its `parent`). Each error holds the instance and a message with its
    repr: 16 MB for an 8 MiB string, which a cycle keeps until the cyclic collector runs, and
    the server runs it rarely (tools/server.py tune_gc), so 200 such refusals held 3.3 GB. The
    errors first_error returns come from the top level (no parent); nothing reads their context."""
    stack = [error]
    while stack:
        each = stack.pop()
        stack.extend(each.context)
        each.context, each.parent = [], None


def _depth_rank(error: jsonschema.ValidationError) -> int:
    # missing fields first (400), then shape problems, deepest path last
    return 0 if error.validator in ("required", "anyOf") else 1


def field_path(path: Iterable[Any]) -> str:
    """A jsonschema error path as the messages print it: a.b[0].c"""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def to_error(error: jsonschema.ValidationError) -> errors.SandboxError:
    field = field_path(error.absolute_path)
    if field.startswith("["):
        field = "body" + field
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        missing = next((name for name in expected if name not in error.instance), expected[0])
        return errors.MissingField(field=f"{field}.{missing}" if field else missing)
    if keyword == "anyOf" and all(sub.get("required") for sub in expected if isinstance(sub, dict)):
        names = " or ".join(sub["required"][0] for sub in expected)
        return errors.MissingField(field=names)
    return errors.InvalidField(field=field or "body", problem=_describe(keyword, expected, error))


_TYPE_NAMES = {"object": "a JSON object", "array": "a JSON array", "string": "a string", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


def _describe(keyword: str, expected: Any, error: jsonschema.ValidationError) -> str:
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(_TYPE_NAMES.get(str(k), str(k)) for k in kinds)
    if keyword == "enum":
        return "must be one of " + ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in expected)
    if keyword == "pattern":
        return "has an invalid format"
    if keyword == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if keyword == "maxLength":
        return f"must be at most {expected} characters"
    if keyword == "exclusiveMinimum":
        return f"must be greater than {expected}"
    if keyword == "minimum":
        return f"must be at least {expected}"
    if keyword == "maximum":
        return f"must be at most {expected}"
    if keyword == "multipleOf":
        places = -Decimal(str(expected)).as_tuple().exponent  # type: ignore[operator]
        return f"must have at most {places} decimal places"
    if keyword in ("minItems", "maxItems"):
        return f"must have {'at least' if keyword == 'minItems' else 'at most'} {expected} items"
    return error.message
