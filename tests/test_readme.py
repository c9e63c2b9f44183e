"""The README's two Quick start commands are exactly what .ci/run runs, so they cannot drift."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def _ci_variable(name: str) -> str:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(rf"^{name}=(.*)$", script, re.MULTILINE)
    assert match, f".ci/run does not define {name}"
    (value,) = shlex.split(match.group(1))  # the shell's own reading of the assignment
    return value


def test_quick_start_has_two_one_line_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_commands_exactly():
    install_and_start, install_and_test = _quick_start_commands()
    assert _ci_variable("INSTALL_AND_START") == install_and_start
    assert _ci_variable("INSTALL_AND_TEST") == install_and_test


def test_ci_runs_both_variables():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'bash -c "$INSTALL_AND_START"' in script
    assert 'bash -c "$INSTALL_AND_TEST"' in script


def test_quick_start_commands_start_the_sample_and_run_pytest():
    install_and_start, install_and_test = _quick_start_commands()
    assert install_and_start.endswith("paintnoise resources/sample.jpg")
    assert (ROOT / "resources" / "sample.jpg").is_file()
    assert "pip install -e" in install_and_test and "pytest" in install_and_test


def test_files_the_readme_links_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(([^)#:]+)\)", readme)
    assert linked
    missing = [link for link in linked if not (ROOT / link).exists()]
    assert not missing


def test_the_system_library_line_is_what_the_window_checks_for():
    from paintnoise_desktop.app import QT_LIBRARIES, XCB_LIBRARIES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in readme.splitlines() if line.startswith("sudo apt-get install ")]
    packages = line.removeprefix("sudo apt-get install ").split()
    assert packages == [*QT_LIBRARIES, *XCB_LIBRARIES]


def test_the_cpu_only_torch_is_installed_before_the_project():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    cpu = "`pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu`"
    assert f"run {cpu} before `pip install -e .`" in readme
