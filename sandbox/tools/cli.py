"""Command line: flags and SANDBOX_* variables -> Settings, then serve.

`enkash-sandbox [serve] [--port N ...]` starts the server; other subcommands are utilities.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any, Sequence

from sandbox.settings import Settings, coerce
from sandbox.tools import contract


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enkash-sandbox",
        description="A stateful emulator of EnKash's Rewards & Incentives partner APIs.",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="start the sandbox (the default)")
    for target in (parser, serve):
        _add_setting_flags(target)
    for name, what in (("encrypt", "encrypt a JSON document into the {\"request\": ...} envelope"),
                       ("decrypt", "decrypt an envelope, or its bare Base64 text, to the JSON inside")):
        tool = commands.add_parser(name, help=what, description=what + " (AES-128-ECB, key from the client secret)")
        tool.add_argument("--secret", required=True, help="the OAuth client secret whose key is used")
        tool.add_argument("data", nargs="?", help="the input (default: read stdin); surrounding whitespace is ignored")
    contract.add_parser(commands)
    return parser


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    for f in fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        env = Settings.env_name(f.name)
        help_text = f"{f.metadata['help']} [env {env}, default {f.default!r}]"
        parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=help_text, type=str)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for f in fields(Settings):
        raw = getattr(args, f.name, None)
        if raw is not None:
            overrides[f.name] = coerce(f, raw)
    return Settings.from_env(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "contract":
        return contract.run(args)
    if args.command in ("encrypt", "decrypt"):
        return crypt(args.command, args.secret, sys.stdin.read() if args.data is None else args.data)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    return serve(settings)


def crypt(command: str, secret: str, text: str) -> int:
    """`encrypt` / `decrypt` for partners debugging payloads: the exact bytes given are encrypted
    (after checking they are JSON), and the exact decrypted bytes are printed."""
    from sandbox.contract import crypto, jsonio
    from sandbox.domain.errors import SandboxError

    try:
        if command == "encrypt":
            plaintext = text.strip().encode("utf-8")
            jsonio.loads(plaintext)
            print(jsonio.dumps({crypto.FIELD: crypto.encrypt(plaintext, crypto.derive_key(secret))}).decode())
        else:
            plaintext = crypto.decrypt_envelope(text.strip(), secret)
            print(plaintext.decode("utf-8", errors="replace"))
            crypto.parse_plaintext(plaintext)
    except SandboxError as exc:
        reason = exc.details.get("reason")
        detail = f" ({reason})" if reason and str(reason) not in exc.message else ""
        print(f"enkash-sandbox {command}: {exc.message}{detail}", file=sys.stderr)
        return 1
    return 0


def serve(settings: Settings) -> int:
    from sandbox.documents.fixtures import FixtureError
    from sandbox.tools.server import serve_blocking

    try:
        serve_blocking(settings, announce=lambda text: print(text, flush=True))
    except FixtureError as exc:
        print(f"enkash-sandbox: bad fixtures: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
