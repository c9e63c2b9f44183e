"""The one table at the end of benchmarks/gpu_check.sh: stage, setting, time.

Reads the folder the script wrote: `steps.tsv` (one line per step: name, exit status,
seconds, log file) and each step's log. A benchmark's timed lines ("<what>  12.3 ms
<note>") become rows, as do its "match, ..." lines; pytest's closing summary becomes one
row; every step adds a row for its whole run, saying when it failed or ran out of time.

Run: python benchmarks/gpu_table.py LOG_FOLDER
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

TIMED = re.compile(r"^\s*(?P<label>\S.*?):?\s+(?P<ms>\d+(?:\.\d+)?) ms\b\s*(?P<note>.*)$")
MATCH = re.compile(r"^\s*(?P<text>match\b.*)$")
PYTEST = re.compile(r"^=*\s*(?P<summary>.*\b(?:passed|failed|skipped|deselected|error)\b.*) in "
                    r"(?P<seconds>\d+(?:\.\d+)?)s")
TIMED_OUT = (124, 137)  # timeout(1): stopped at the limit, or killed after it


@dataclass(frozen=True)
class Row:
    stage: str
    setting: str
    seconds: float | None


def rows_from_log(stage: str, text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        if found := PYTEST.match(line):
            rows.append(Row(stage, found["summary"], float(found["seconds"])))
        elif found := TIMED.match(line):
            label = " ".join(found["label"].split())
            note = " ".join(found["note"].split())
            setting = f"{label} {note if note.startswith('(') else f'({note})'}" if note else label
            rows.append(Row(stage, setting, float(found["ms"]) / 1000))
        elif found := MATCH.match(line):
            rows.append(Row(stage, " ".join(found["text"].split()), None))
    return rows


def step_row(stage: str, status: int, seconds: float, limit: str) -> Row:
    if status == 0:
        outcome = "whole step"
    elif status in TIMED_OUT:
        outcome = f"whole step: TIMED OUT at its {limit} s limit"
    else:
        outcome = f"whole step: FAILED (exit {status}), see its log"
    return Row(stage, outcome, seconds)


def table(folder: Path) -> tuple[list[Row], bool]:
    """Every row, and whether every step succeeded."""
    rows, ok = [], True
    for line in (folder / "steps.tsv").read_text().splitlines():
        stage, status, seconds, limit, log = line.split("\t")
        text = Path(log).read_text(errors="replace") if Path(log).exists() else ""
        rows += rows_from_log(stage, text)
        rows.append(step_row(stage, int(status), float(seconds), limit))
        ok = ok and int(status) == 0
    return rows, ok


def render(rows: list[Row]) -> str:
    def seconds(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value * 1000:.1f} ms" if value < 10 else f"{value:.1f} s"

    cells = [("stage", "setting", "time")] + [
        (row.stage, row.setting, seconds(row.seconds)) for row in rows
    ]
    widths = [max(len(cell[i]) for cell in cells) for i in range(2)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>10}" for a, b, c in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> int:
    rows, ok = table(Path(sys.argv[1]))
    print(render(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
