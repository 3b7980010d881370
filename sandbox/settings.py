"""Every option of the sandbox, once: its default, its CLI flag and its SANDBOX_* variable."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_fixtures_dir() -> Path:
    """The fixtures shipped with the package (a link to the repo's fixtures/ in a checkout)."""
    inside = _PACKAGE_DIR / "bundled_fixtures"
    if (inside / "default.yaml").exists():
        return inside
    return _PACKAGE_DIR.parent / "fixtures"


def _opt(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class Settings:
    host: str = _opt("127.0.0.1", "interface to listen on")
    port: int = _opt(8080, "TCP port (0 picks a free one)")
    fixtures: str = _opt("", "YAML/JSON fixtures file (default: bundled fixtures/default.yaml)")
    seed: int = _opt(0, "seed for ids and every random choice")
    log_level: str = _opt("info", "log level", ("critical", "error", "warning", "info", "debug"))
    log_format: str = _opt("text", "request log format", ("text", "json"))
    token_ttl: int = _opt(86399, "access token lifetime in seconds (docs: 300 in text, 86399 in the example)")
    token_reuse: bool = _opt(True, "a new token call returns the still-valid token (Spring OAuth behaviour)")
    lockout_attempts: int = _opt(3, "consecutive failed logins that lock a user")
    lockout_seconds: int = _opt(0, "how long a lock lasts (0: until reset)")
    lockout_answer: str = _opt("next", "'User account is locked' from the attempt after the locking failure (Spring) or on that failure ('last')", ("next", "last"))
    refresh_grant: bool = _opt(True, "grant_type=refresh_token works (Spring OAuth); false: unsupported_grant_type, as only the password grant is documented")
    refresh_token_ttl: int = _opt(2592000, "refresh token lifetime in seconds (Spring OAuth's default, 30 days)")
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
    bulk_max_rows: int = _opt(10000, "largest bulk upload accepted")
    max_body_bytes: int = _opt(8 * 1024 * 1024, "largest request body accepted (413 above)")
    validate_responses: bool = _opt(False, "check every response against its schema (tests turn it on)")
    admin_token: str = _opt("", "when set, /__sandbox/ calls (but health) need 'Authorization: Bearer <it>'")
    journal_size: int = _opt(1000, "requests kept in the journal")
    journal_body_bytes: int = _opt(65536, "bytes of each request and response body kept in the journal")
    scenario: str = _opt("", "fault scenario to arm at start (name in fixtures/scenarios or a path)")
    state_file: str = _opt("", "restore state from this file at start, save it on clean shutdown")
    clock_start: str = _opt("", "ISO-8601 time to start the sandbox clock at (default: now)")
    clock_frozen: bool = _opt(False, "start with the clock frozen")

    def fixtures_path(self) -> Path:
        return Path(self.fixtures) if self.fixtures else bundled_fixtures_dir() / "default.yaml"

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def env_name(cls, name: str) -> str:
        return "SANDBOX_" + name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then SANDBOX_* variables, then explicit overrides (CLI flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(cls.env_name(f.name))
            if raw is not None:
                values[f.name] = coerce(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def coerce(f: dataclasses.Field[Any], raw: str) -> Any:
    """Turn the text of an env var or flag into the field's type, with a clear error."""
    kind = type(f.default)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{Settings.env_name(f.name)}: expected true/false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{Settings.env_name(f.name)}: expected an integer, got {raw!r}") from None
    choices = f.metadata.get("choices")
    if choices and raw not in choices:
        raise ValueError(f"{Settings.env_name(f.name)}: expected one of {', '.join(choices)}, got {raw!r}")
    return raw
