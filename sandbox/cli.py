"""Command line: flags and SANDBOX_* variables -> Settings, then serve.

`enkash-sandbox [serve] [--port N ...]` starts the server; other subcommands are utilities.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import fields
from typing import Any, Sequence

from .settings import Settings, coerce


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enkash-sandbox",
        description="A stateful emulator of EnKash's Rewards & Incentives partner APIs.",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="start the sandbox (the default)")
    for target in (parser, serve):
        _add_setting_flags(target)
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
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    return serve(settings)


def serve(settings: Settings) -> int:
    from .fixtures import FixtureError
    from .server import run

    try:
        asyncio.run(run(settings, announce=lambda text: print(text, flush=True)))
    except FixtureError as exc:
        print(f"enkash-sandbox: bad fixtures: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
