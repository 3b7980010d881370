"""README.md stays true: every option is documented, and the quick start's commands exist."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_option_is_in_the_readme():
    missing = [Settings.env_name(f.name) for f in fields(Settings) if Settings.env_name(f.name) not in README]
    assert missing == []


def test_quick_start_is_two_commands_that_exist():
    start = README.index("## Quick start")
    block = README[README.index("```bash", start) + len("```bash"): README.index("```", README.index("```bash", start) + 7)]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bash scripts/start.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_magic_value_in_the_fixtures_is_in_the_readme_table():
    import yaml

    doc = yaml.safe_load((ROOT / "fixtures" / "default.yaml").read_text())
    for magic in doc["magicValues"]:
        assert f"| `{magic['field']}` | `{magic['value']}` |" in README, magic
