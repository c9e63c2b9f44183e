"""Errors that carry a one-line message meant for the user.

Anything raised as a `PaintNoiseError` is shown to the user as `str(error)`; the
optional `detail` goes to the log. Anything else is a bug and is logged with its
traceback.
"""

from __future__ import annotations


class PaintNoiseError(Exception):
    """An error whose message is a sentence for the user: what happened and what to do."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class ImageFileError(PaintNoiseError):
    """A photo could not be opened or saved."""


class ModelError(PaintNoiseError):
    """A model could not be found, loaded or run."""


class ModelMissingError(ModelError):
    """Models the job needs are not installed; the UI offers to download them, all at once."""

    def __init__(self, model_ids: str | tuple[str, ...], message: str, detail: str = "") -> None:
        super().__init__(message, detail)
        self.model_ids = (model_ids,) if isinstance(model_ids, str) else tuple(model_ids)


class JobCancelled(Exception):
    """Raised inside a job when the user pressed Cancel; the job leaves nothing behind."""
