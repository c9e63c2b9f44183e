"""The `paintnoise` command line: the window, and the same pipeline without one.

    paintnoise [PHOTO]                    open the window
    paintnoise edit PHOTO ... -o OUT      find (or take a mask) and repaint, headless
    paintnoise mask PHOTO --find ... -o MASK.png
    paintnoise models list|download|verify|path|add ...
    paintnoise bench PHOTO --find ...     time each stage

Errors are one line on stderr (`paintnoise: error: ...`) and exit code 1; usage
errors exit 2; Ctrl-C cancels the running job and exits 130. `--debug` adds the
traceback and the log.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..core.errors import PaintNoiseError
from .bench import add_bench_command, with_bench_kind
from .edit import add_edit_command
from .mask import add_mask_command
from .models import add_models_commands

PROG = "paintnoise"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _open_window(args: argparse.Namespace) -> int:
    from ..app import open_window  # Qt is imported only on this path

    return open_window(args.photo)


def build_parser() -> tuple[argparse.ArgumentParser, frozenset[str], frozenset[str]]:
    """The parser, the names of its commands and those of the kinds of bench."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [-h] [--version] [--debug] [PHOTO | COMMAND ...]",
        description="Find and replace in your photos: masks from words, inpainting on your "
        "own computer. With no command (or just a photo), opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and the log")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: `paintnoise --debug edit ...` and `paintnoise edit --debug ...` both work.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and the log")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog=PROG)

    window = commands.add_parser("open", parents=[common], help="open the window (the default)",
                                 description="Open the window, optionally with a photo.")
    window.add_argument("photo", nargs="?", metavar="PHOTO", help="photo to open")
    window.set_defaults(func=_open_window)

    add_edit_command(commands, common)
    add_mask_command(commands, common)
    add_models_commands(commands, common)
    bench_kinds = add_bench_command(commands, common)
    return parser, frozenset(commands.choices), bench_kinds


def _with_command(argv: list[str], names: frozenset[str],
                  bench_kinds: frozenset[str]) -> list[str]:
    """`paintnoise` and `paintnoise PHOTO` mean `paintnoise open [PHOTO]`;
    `paintnoise bench PHOTO` means `paintnoise bench stages PHOTO`."""
    if any(arg in ("-h", "--help", "--version") for arg in argv):
        return argv
    first = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), len(argv))
    if first < len(argv) and argv[first] == "bench":
        return with_bench_kind(argv, bench_kinds)
    if first < len(argv) and argv[first] in names:
        return argv
    return argv[:first] + ["open"] + argv[first:]


def _configure_logging(debug: bool) -> None:
    """--debug: the log on stderr. Otherwise failures are reported once, by `main`.

    Without any handler Python would print the engine's warnings on stderr as well,
    so the package logger gets a handler that drops them unless someone (the window,
    --debug) configures logging.
    """
    package_log = logging.getLogger("paintnoise_desktop")
    if not package_log.handlers:
        package_log.addHandler(logging.NullHandler())
    if debug:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        package_log.setLevel(logging.DEBUG)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser, names, bench_kinds = build_parser()
    args = parser.parse_args(_with_command(list(sys.argv[1:] if argv is None else argv), names,
                                           bench_kinds))
    debug = bool(getattr(args, "debug", False))
    _configure_logging(debug)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PaintNoiseError as error:
        if debug:
            traceback.print_exc()
            if error.detail:
                print(error.detail, file=sys.stderr)
        _error(str(error))
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 -- a bug: one line, the traceback with --debug
        if debug:
            traceback.print_exc()
        _error(f"unexpected {type(error).__name__}: {error} (run again with --debug for details)")
        return EXIT_FAILED
