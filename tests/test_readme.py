"""README.md stays true: every option is documented, the quick start's commands exist, and every
Python sample runs (or is, statement for statement, part of a file the tests run)."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from dataclasses import fields
from pathlib import Path

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

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


def python_samples() -> list[tuple[str, str]]:
    """Every ```python block of the README, with the ### heading it sits under."""
    samples, heading = [], ""
    for part in re.split(r"(^```python\n.*?^```$)", README, flags=re.M | re.S):
        if part.startswith("```python"):
            samples.append((heading, part[len("```python\n"): -len("```")]))
        else:
            headings = re.findall(r"^#{2,4} (.+)$", part, flags=re.M)
            heading = headings[-1] if headings else heading
    return samples


def test_every_python_sample_is_run_by_a_test():
    # a new sample needs a test here: either it runs, or it is checked against a file that runs
    assert [heading for heading, _ in python_samples()] == ["From Python", "From Python", "Example"]


def test_the_encryption_samples_run_against_an_encrypting_sandbox():
    code = [text for heading, text in python_samples() if heading == "From Python"]
    expected = [line.split("# ")[-1].strip() for text in code for line in text.splitlines() if line.startswith("print(")]
    out = io.StringIO()
    with ServerThread(Settings(encryption="required")) as server, contextlib.redirect_stdout(out):
        namespace: dict = {}
        for text in code:  # one session: the second sample continues the first
            exec(compile(text.replace("http://127.0.0.1:8080", server.url), "README.md", "exec"), namespace)
    assert out.getvalue().splitlines() == expected


def test_the_plugin_sample_is_part_of_the_example_project_the_tests_run():
    # tests/test_pytest_plugin.py runs examples/partner-project/test_rewards.py with the plugin
    [sample] = [text for heading, text in python_samples() if heading == "Example"]
    example = ast.parse((ROOT / "examples" / "partner-project" / "test_rewards.py").read_text())
    in_file = {ast.dump(node) for node in example.body}
    missing = [ast.unparse(node).splitlines()[0] for node in ast.parse(sample).body if ast.dump(node) not in in_file]
    assert missing == []
