"""Every option of the sandbox, once: its default, its CLI flag and its SANDBOX_* variable."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_fixtures_dir() -> Path:
    """The fixtures shipped with the package (a link to the repo's fixtures/ in a checkout)."""
    inside = _PACKAGE_DIR / "bundled_fixtures"
    if (inside / "default.yaml").exists():
        return inside
    return _PACKAGE_DIR.parent / "fixtures"


YEAR = 365 * 24 * 3600


def _opt(default: Any, help: str, choices: tuple[str, ...] | None = None, limits: tuple[int, int] | None = None,
         shown: str | None = None) -> Any:
    """A setting: its default, what it does, and what it accepts (`choices` for text, `limits`
    for numbers, inclusive); `shown` is how --help names an empty default."""
    return field(default=default, metadata={"help": help, "choices": choices, "limits": limits, "shown": shown})


@dataclass(frozen=True)
class Settings:
    host: str = _opt("127.0.0.1", "interface to listen on")
    port: int = _opt(8080, "TCP port (0 picks a free one)", limits=(0, 65535))
    fixtures: str = _opt("", "YAML/JSON fixtures file", shown="the bundled fixtures/default.yaml")
    seed: int = _opt(0, "seed for ids and every random choice", limits=(-(10**18 - 1), 10**18 - 1))
    log_level: str = _opt("info", "log level", ("critical", "error", "warning", "info", "debug"))
    log_format: str = _opt("text", "request log format", ("text", "json"))
    token_ttl: int = _opt(86399, "access token lifetime in seconds (docs: 300 in text, 86399 in the example)",
                          limits=(1, 10 * YEAR))
    token_reuse: bool = _opt(True, "a new token call returns the still-valid token (Spring OAuth behaviour)")
    lockout_attempts: int = _opt(3, "consecutive failed logins that lock a user", limits=(1, 1_000_000))
    lockout_seconds: int = _opt(0, "how long a lock lasts (0: until reset)", limits=(0, 10 * YEAR))
    lockout_answer: str = _opt("next", "'User account is locked' from the attempt after the locking failure (Spring) or on that failure ('last')", ("next", "last"))
    refresh_grant: bool = _opt(True, "grant_type=refresh_token works (Spring OAuth); false: unsupported_grant_type, as only the password grant is documented")
    refresh_token_ttl: int = _opt(2592000, "refresh token lifetime in seconds (Spring OAuth's default, 30 days)",
                                   limits=(1, 10 * YEAR))
    duplicate_reference: str = _opt("replay", "a repeated uniqueReferenceNumber/requestId with the same body: replay the first answer, or refuse it (code 1)", ("replay", "refuse"))
    user_details: str = _opt("list", "search without enKashCardId: {recordsCount, data[]} in envelope A, or one card 'object' in envelope B", ("list", "object"))
    bulk_existing_holders: str = _opt("skip", "bulk with isPointsAllocation=false: an existing holder is a success row without points ('skip') or a failed row", ("skip", "fail"))
    bulk_foreign_account: str = _opt("422", "bulk on another partner's account: the documented 422 'Card Account does not exist for this partner', or the isolation 404", ("422", "404"))
    plan_master_bins: str = _opt("200401", "comma-separated card BINs mapped on the plan master; bulk on an account whose primary card has another gets 422")
    error_envelope: str = _opt("b", "envelope of failures: 'b' (documented example) or 'endpoint'", ("b", "endpoint"))
    auth_errors: str = _opt("envelope", "shape of 401s on API calls: documented envelope or Spring OAuth", ("envelope", "oauth"))
    encryption: str = _opt("off", "payload encryption for every partner without its own setting", ("off", "optional", "required"))
    encrypt_errors: bool = _opt(True, "in encryption mode, envelope failures to decrypted requests too (false: plain JSON)")
    sso_base_url: str = _opt("https://invoice-uat.enkash.in", "host of the SSO redirect URL")
    bulk_max_rows: int = _opt(10000, "largest bulk upload accepted", limits=(1, 1_000_000))
    max_body_bytes: int = _opt(8 * 1024 * 1024, "largest body of an upload: bulk allocation, fixtures (413 above)",
                               limits=(1, 1 << 30))
    max_call_bytes: int = _opt(1 << 20, "largest body of any other call, one record each (413 above)", limits=(1, 1 << 30))
    validate_responses: bool = _opt(False, "check every response against its schema (tests turn it on)")
    admin_token: str = _opt("", "when set, /__sandbox/ calls (but health) need 'Authorization: Bearer <it>'", shown="none")
    journal_size: int = _opt(1000, "requests kept in the journal", limits=(0, 100_000))
    journal_body_bytes: int = _opt(65536, "bytes of each request and response body kept in the journal", limits=(0, 1 << 20))
    scenario: str = _opt("", "fault scenario to arm at start (name in fixtures/scenarios or a path)", shown="none")
    state_file: str = _opt("", "restore state from this file at start, save it on clean shutdown", shown="none")
    clock_start: str = _opt("", "ISO-8601 time to start the sandbox clock at", shown="now")
    clock_frozen: bool = _opt(False, "start with the clock frozen")
    order_details_key: str = _opt("paylod", "payload key of Fetch Order Info: the docs' 'paylod' (sic) or 'payload'", ("paylod", "payload"))

    # limits (README.md, "Limits"): every size, depth, count and duration a client could push
    max_header_bytes: int = _opt(16 * 1024, "largest request line and headers accepted (431 above)", limits=(1024, 1 << 24))
    max_depth: int = _opt(64, "deepest nesting of arrays and objects in a JSON or YAML body (400 above)",
                          limits=(2, 900))  # 900: below Python's recursion limit
    max_state_bytes: int = _opt(256 * 1024 * 1024, "largest body PUT /__sandbox/state accepts (it has its own limit)",
                                limits=(1024, 1 << 34))
    header_timeout: int = _opt(10, "seconds a client has to send a request's line and headers (408 after)", limits=(1, 86400))
    body_timeout: int = _opt(30, "seconds a client has to send a request's body, or to take a response (408 after)",
                             limits=(1, 86400))
    idle_timeout: int = _opt(5, "seconds an idle keep-alive connection stays open", limits=(1, 86400))
    max_connections: int = _opt(1000, "open connections for EnKash's paths (more: 503; lowered to fit the file limit)",
                                limits=(1, 1_000_000))
    admin_connections: int = _opt(16, "connections beyond max_connections kept for /__sandbox/ calls", limits=(1, 10_000))
    journal_max_bytes: int = _opt(32 * 1024 * 1024, "bytes the journal keeps in all (oldest entries go first)",
                                  limits=(0, 1 << 34))

    def __post_init__(self) -> None:
        """Settings built in code are held to the same limits as flags and variables."""
        for f in fields(self):
            problem = _problem(f, getattr(self, f.name))
            if problem:
                raise ValueError(f"{f.name}: {problem}, got {getattr(self, f.name)!r}")

    def body_limit(self, kind: str) -> int:
        """The body limit of a route's `limit` kind (sandbox/web/routes.py): a call carries one
        record, so its bound is small and a flood of them costs no parse worth the name; only
        uploads and state documents may be large."""
        return self.max_state_bytes if kind == "state" else self.max_body_bytes if kind == "upload" else self.max_call_bytes

    def fixtures_path(self) -> Path:
        return Path(self.fixtures) if self.fixtures else bundled_fixtures_dir() / "default.yaml"

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def env_name(cls, name: str) -> str:
        return "SANDBOX_" + name.upper()

    @classmethod
    def flag_name(cls, name: str) -> str:
        return "--" + name.replace("_", "-")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then SANDBOX_* variables, then explicit overrides (typed values)."""
        settings, _ = cls.from_text({}, environ)
        return settings.replace(**{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_text(cls, flags: Mapping[str, str], environ: Mapping[str, str] | None = None) -> tuple["Settings", dict[str, str]]:
        """Defaults, then SANDBOX_* variables, then flags (their text, by field name), and where each
        value came from (`--port` or `SANDBOX_PORT`), so an error names what the user wrote."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in fields(cls):
            if f.name in flags:
                raw, source = flags[f.name], cls.flag_name(f.name)
            elif cls.env_name(f.name) in environ:
                raw, source = environ[cls.env_name(f.name)], cls.env_name(f.name)
            else:
                continue
            values[f.name] = coerce(f, raw, source)
            sources[f.name] = source
        return cls(**values), sources


# The sandbox clock and every date accepted anywhere stay in [EARLIEST, LATEST), with room below
# year 9999 for every date derived from them: expiries (at most 100 years on), windows, month keys.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
RANGE_TEXT = "must be between 1970-01-01T00:00:00Z and 8999-12-31T23:59:59Z"


def allowed(f: dataclasses.Field[Any]) -> str:
    """What a setting accepts, in words (for errors and --help)."""
    if type(f.default) is bool:
        return "true or false"
    limits = f.metadata.get("limits")
    if limits:
        return f"an integer from {limits[0]} to {limits[1]}"
    if type(f.default) is int:
        return "an integer"
    choices = f.metadata.get("choices")
    return "one of " + ", ".join(choices) if choices else "text"


def _problem(f: dataclasses.Field[Any], value: Any) -> str | None:
    kind = type(f.default)
    limits, choices = f.metadata.get("limits"), f.metadata.get("choices")
    if type(value) is not kind or (limits and not limits[0] <= value <= limits[1]) or (choices and value not in choices):
        return "expected " + allowed(f)
    return None


def coerce(f: dataclasses.Field[Any], raw: str, source: str | None = None) -> Any:
    """Turn the text of a flag or env var into the field's type, or a ValueError naming `source`
    (the flag or variable it came from; the variable by default)."""
    kind = type(f.default)
    value: Any = raw
    if kind is bool:
        lowered = raw.strip().lower()
        value = True if lowered in ("1", "true", "yes", "on") else False if lowered in ("0", "false", "no", "off", "") else None
    elif kind is int:
        try:
            value = int(raw)
        except ValueError:
            value = None
    problem = _problem(f, value)
    if problem:
        raise ValueError(f"{source or Settings.env_name(f.name)}: {problem}, got {raw!r}")
    return value
