"""The benches' tables: the same rows as CSV (for sheets and scripts) and as Markdown (to read)."""

from __future__ import annotations

import csv
from pathlib import Path


def markdown(columns: tuple[str, ...], lines: list[list[str]]) -> str:
    rows = [columns, tuple("---" for _ in columns), *lines]
    return "\n".join("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"
                     for row in rows) + "\n"


def write_csv(path: Path, columns: tuple[str, ...], lines: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(lines)
