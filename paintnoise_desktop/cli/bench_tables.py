"""The benches' tables: the same rows as CSV (for sheets and scripts) and as Markdown (to read)."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from ..core.contact_sheet import Cell, contact_sheet


def markdown(columns: tuple[str, ...], lines: list[list[str]]) -> str:
    rows = [columns, tuple("---" for _ in columns), *lines]
    return "\n".join("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"
                     for row in rows) + "\n"


def write_csv(path: Path, columns: tuple[str, ...], lines: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(lines)


def write_report(out: Path, table_name: str, table: str, sheet_name: str,
                 sheet: list[list[Cell]], progress, written: tuple[str, ...] = ()) -> None:
    """The Markdown table and the contact sheet into `out`, the table on stdout, and a note of
    every file the bench wrote (`written`: those it wrote itself, such as its CSV)."""
    (out / table_name).write_text(table, encoding="utf-8")
    Image.fromarray(contact_sheet(sheet)).save(out / sheet_name)
    print(table, end="")
    for name in (*written, table_name, sheet_name):
        progress.note(f"wrote {out / name}")
