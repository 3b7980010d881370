"""Command line: flags and SANDBOX_* variables -> Settings, then serve.

`enkash-sandbox [serve] [--port N ...]` starts the server; other subcommands are utilities.
A start that cannot go on (a bad flag or variable, a port in use, a state file that could not be
saved) is one line on stderr naming the flag or variable, and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any, Iterator, NoReturn, Sequence

from sandbox.settings import Settings, allowed
from sandbox.tools import contract


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line: no usage block before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="enkash-sandbox",
        allow_abbrev=False,  # --port is --port: no prefix guessing
        description="A stateful emulator of EnKash's Rewards & Incentives partner APIs.",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="start the sandbox (the default)", allow_abbrev=False)
    for target in (parser, serve):
        _add_setting_flags(target)
    for name, what in (("encrypt", "encrypt a JSON document into the {\"request\": ...} envelope"),
                       ("decrypt", "decrypt an envelope, or its bare Base64 text, to the JSON inside")):
        tool = commands.add_parser(name, help=what, description=what + " (AES-128-ECB, key from the client secret)",
                                   allow_abbrev=False)
        tool.add_argument("--secret", required=True, help="the OAuth client secret whose key is used")
        tool.add_argument("data", nargs="?", help="the input (default: read stdin); surrounding whitespace is ignored")
    contract.add_parser(commands)
    return parser


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    for f in fields(Settings):
        choices = f.metadata["choices"]
        if type(f.default) is bool:
            default, metavar = str(f.default).lower(), "{true,false}"
        else:
            default, metavar = f.metadata["shown"] or str(f.default), "{" + ",".join(choices) + "}" if choices else f.name.upper()
        accepts = "" if type(f.default) is str and not choices else f"; {allowed(f)}"
        if f.name == "scenario":
            from sandbox.faults import scenarios

            accepts = f"; bundled: {', '.join(scenarios.names())}"
        help_text = f"{f.metadata['help']}{accepts} [env {Settings.env_name(f.name)}, default {default}]"
        parser.add_argument(Settings.flag_name(f.name), dest=f.name, default=None, metavar=metavar, help=help_text)


def settings_from_args(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    """The flags given (as typed) over the SANDBOX_* variables, and where each value came from."""
    return Settings.from_text({f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name, None) is not None})


def check_start(settings: Settings, sources: dict[str, str]) -> None:
    """What Settings cannot judge alone, checked before anything starts: the clock's start time
    and the scenario (a ValueError naming the flag or variable)."""
    from sandbox.state.clock import OutOfRange, parse_iso

    named = _namer(sources)
    if settings.clock_start:
        try:
            parse_iso(settings.clock_start)
        except OutOfRange as exc:
            raise ValueError(f"{named('clock_start')}: {exc}, got {settings.clock_start!r}") from None
        except ValueError:
            raise ValueError(f"{named('clock_start')}: expected an ISO-8601 time such as 2025-03-01T10:00:00Z, "
                             f"got {settings.clock_start!r}") from None
    if settings.scenario:
        from sandbox.contract.schemas import Schemas
        from sandbox.documents.fixtures import FixtureError
        from sandbox.domain.errors import SandboxError
        from sandbox.faults import scenarios

        try:
            scenarios.load(settings.scenario, Schemas())
        except SandboxError as exc:
            raise ValueError(f"{named('scenario')}: {exc.message}") from None
        except FixtureError as exc:
            raise ValueError(f"{named('scenario')}: bad scenario {exc}") from None


def _namer(sources: dict[str, str]) -> Any:
    return lambda setting: sources.get(setting, Settings.flag_name(setting))


def refuse(message: str) -> int:
    print(f"enkash-sandbox: {message}", file=sys.stderr)
    return 2


def unknown_flag(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """The first --flag no command knows. Looked for before argparse, which would otherwise take
    the flag's value for a command name and complain about that."""
    known = set(option_strings(parser))
    for arg in argv:
        if arg == "--":
            break
        flag = arg.split("=", 1)[0]
        if flag.startswith("--") and flag not in known:
            return flag
    return None


def option_strings(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every option of the parser and of its commands."""
    for action in parser._actions:
        yield from action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from option_strings(command)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    flag = unknown_flag(parser, argv)
    if flag:
        return refuse(f"unknown flag {flag} (see enkash-sandbox --help)")
    args = parser.parse_args(argv)
    if args.command == "contract":
        return contract.run(args)
    if args.command in ("encrypt", "decrypt"):
        return crypt(args.command, args.secret, sys.stdin.read() if args.data is None else args.data)
    try:
        settings, sources = settings_from_args(args)
        check_start(settings, sources)
    except ValueError as exc:
        return refuse(str(exc))
    return serve(settings, sources)


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


def serve(settings: Settings, sources: dict[str, str] | None = None) -> int:
    from sandbox.documents.fixtures import FixtureError
    from sandbox.tools.server import StartupError, serve_blocking

    named = _namer(sources or {})
    try:
        serve_blocking(settings, announce=lambda text: print(text, flush=True))
    except StartupError as exc:
        return refuse(f"{named(exc.setting)}: {exc.message}")
    except FixtureError as exc:
        return refuse(f"bad fixtures: {exc}")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
