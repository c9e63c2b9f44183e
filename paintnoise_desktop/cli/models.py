"""`paintnoise models ...`: list, download, verify, locate and add models.

Engine settings (models folder, model paths, offline mode) come from the same
settings file the window uses (`engine.settings.settings_file()`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import PaintNoiseError
from ..core.jobs import CancelToken, Progress
from ..engine.models.catalog import get_spec, load_catalog
from ..engine.models.download import refuse_if_offline
from ..engine.models.model_check import validate_model_path, verify_model
from ..engine.models.model_jobs import download_model
from ..engine.models.registry import expected_path, install_status, locate
from ..engine.settings import load_settings, save_settings, with_model_path
from .jobs import TextProgress

EXIT_BROKEN = 1


def add_models_commands(subparsers: argparse._SubParsersAction,
                        common: argparse.ArgumentParser) -> None:
    """`common` holds the options every command takes (--debug), here and after each action."""
    models = subparsers.add_parser("models", parents=[common],
                                   help="list, download and check models",
                                   description="Manage the models PaintNoise uses.")
    commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=summary)

    action("list", "every known model and whether it is installed").set_defaults(func=list_models)

    download = action("download", "download models (asks first)")
    download.add_argument("model_ids", metavar="ID", nargs="+")
    download.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    download.set_defaults(func=download_command)

    verify = action("verify", "check installed models' files")
    verify.add_argument("model_id", metavar="ID", nargs="?", help="one model (default: all)")
    verify.set_defaults(func=verify_command)

    path = action("path", "print the folder where a model is expected")
    path.add_argument("model_id", metavar="ID")
    path.set_defaults(func=path_command)

    add = action("add", "use model files you already have, without copying")
    add.add_argument("model_id", metavar="ID")
    add.add_argument("path", metavar="PATH", type=Path,
                     help="a diffusers/transformers folder, an inpainting .safetensors or a SAM .pth")
    add.set_defaults(func=add_command)


def list_models(args: argparse.Namespace) -> int:
    settings = load_settings()
    rows = [("ID", "STATUS", "SIZE", "ROLE", "LICENCE")]
    for spec in load_catalog().values():
        rows.append((spec.id, install_status(spec.id, settings), f"{spec.size_bytes / 1e9:.2f} GB", spec.role, spec.licence))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def download_command(args: argparse.Namespace) -> int:
    """One question for every model named: sizes, licences, where from and where to."""
    settings = load_settings()
    specs = [get_spec(model_id) for model_id in dict.fromkeys(args.model_ids)]
    wanted = []
    for spec in specs:
        location = locate(spec.id, settings)
        if location is None:
            wanted.append(spec)
        else:
            print(f"{spec.id} is already installed ({location.origin}: {location.path}).")
    if not wanted:
        return 0
    for spec in wanted:
        refuse_if_offline(spec.id, settings)
    for spec in wanted:
        print(f"{spec.name}: about {spec.size_bytes / 1e9:.2f} GB, licence: {spec.licence}\n"
              f"  from {spec.source}\n  into {expected_path(spec.id, settings)}")
        if spec.access == "gated":
            print(f"  the hub serves it only once you have accepted the licence at "
                  f"{spec.licence_url}")
        elif spec.licence_url:
            print(f"  licence text: {spec.licence_url}")
    question = "Download it now? [y/N] " if len(wanted) == 1 else (
        f"Download these {len(wanted)} models now "
        f"(about {sum(spec.size_bytes for spec in wanted) / 1e9:.2f} GB)? [y/N] ")
    if not args.yes and not _confirmed(question):
        print("Nothing was downloaded.")
        return 0

    progress = TextProgress()  # one live line on a terminal, a line per message in a log

    def step(fraction: float, message: str, preview=None) -> None:
        progress(Progress(0, fraction, message))

    for spec in wanted:
        try:
            folder = download_model(spec.id, settings, step, CancelToken())
        finally:
            progress.end_line()  # an error goes on a line of its own
        print(f"{spec.id} is installed in {folder}.")
    return 0


def _confirmed(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise PaintNoiseError(
            "A download needs your confirmation and there is no terminal to ask on. "
            "Run again with --yes to accept the size and licence shown above.",
        )
    return input(question).strip().lower() in ("y", "yes")


def verify_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    model_ids = [get_spec(args.model_id).id] if args.model_id else list(load_catalog())
    broken = 0
    for model_id in model_ids:
        verdict = verify_model(model_id, settings)
        print(f"{model_id}: {verdict.summary}")
        if not verdict.ok and (verdict.location is not None or args.model_id):
            broken += 1
    return EXIT_BROKEN if broken else 0


def path_command(args: argparse.Namespace) -> int:
    print(expected_path(get_spec(args.model_id).id, load_settings()))
    return 0


def add_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    spec = get_spec(args.model_id)
    path = validate_model_path(spec, args.path)
    stored = save_settings(with_model_path(settings, spec.id, path))
    print(f"{spec.id} now uses {path} (saved in {stored}).")
    return 0
