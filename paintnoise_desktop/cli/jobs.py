"""Running one engine job from the command line: a progress line on stderr, Ctrl-C cancels.

The job runs on a worker thread so that Ctrl-C reaches the main thread at once; the
main thread then sets the cancel flag and waits for the job to stop at its next step,
the same cooperative cancel the window uses.
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import replace
from typing import TextIO

from ..core.errors import PaintNoiseError
from ..core.jobs import CancelToken, Job, Progress, Result, Status
from ..engine.models.needs import download_command, missing_models_error, not_installed
from ..engine.runner import Engine
from ..engine.settings import EngineSettings, load_settings


class TextProgress:
    """Shows `Progress` as one line on a terminal, or a line per new message in a log."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._last_message = ""
        self._open_line = False

    def __call__(self, progress: Progress) -> None:
        line = f"[{progress.fraction * 100:3.0f}%] {progress.message}"
        if self.live:
            self.stream.write("\r\x1b[K" + line)
            self._open_line = True
        elif progress.message != self._last_message:
            self.stream.write(line + "\n")
        self._last_message = progress.message
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own, which does not get overwritten by the next progress update."""
        self.end_line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", metavar="DEVICE",
                        help="cpu, cuda, cuda:1 or mps (default: the saved setting, else the "
                             "GPU when there is one)")


def engine_for(args: argparse.Namespace) -> Engine:
    """An engine with the settings the window saved (models folder, model paths, device)."""
    settings = load_settings()
    if args.device:
        settings = replace(settings, device=args.device)
    return Engine(settings)


def check_models(steps: list[tuple[str, tuple[str, ...]]], settings: EngineSettings,
                 instead: str = "") -> None:
    """Before any work, fail with one sentence naming every model the steps need and lack.

    `steps` are (action, model ids) pairs, such as ("Finding “cup”", ("sam-vit-b", ...));
    `instead` is another way to run without them, added to the sentence.
    """
    missing = not_installed(tuple(model_id for _, needed in steps for model_id in needed),
                            settings)
    if not missing:
        return
    actions = tuple(action for action, needed in steps if set(needed) & set(missing))
    remedy = f"run `{download_command(missing)}`" + (f", or {instead}" if instead else "")
    raise missing_models_error(actions, missing, settings, remedy)


class JobFailed(PaintNoiseError):
    """A job came back failed; its message is the engine's sentence for the user."""


def run_job(engine: Engine, job: Job, progress: TextProgress) -> Result:
    """Run `job` and return its finished result; raise JobFailed when it failed.

    KeyboardInterrupt cancels the job, waits for it to stop and is raised again.
    """
    cancel = CancelToken()
    outcome: list[Result] = []
    worker = threading.Thread(
        target=lambda: outcome.append(engine.run(job, progress, cancel)),
        name="paintnoise-job",
        daemon=True,
    )
    try:
        worker.start()  # inside the try: Ctrl-C may land while the thread starts
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancel.cancel()
        progress.note("Cancelling...")
        if worker.is_alive():
            worker.join()
        raise
    finally:
        progress.end_line()
    result = outcome[0]
    if result.status is Status.CANCELLED:
        raise KeyboardInterrupt
    if not result.ok:
        raise JobFailed(result.message, result.detail)
    return result
