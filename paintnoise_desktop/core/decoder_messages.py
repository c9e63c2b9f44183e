"""What image decoders say while they decode goes to the log, not to the user's terminal.

Pillow warns through Python's `warnings` ("Corrupt EXIF data", "Truncated File Read"); libtiff
prints from C to stderr ("LZWDecode: Not enough data at scanline 0"). A broken file is already
told to the user as one sentence; these extra lines would only break it up. libtiff's handlers
are set once, to ones that log, in the libtiff Pillow itself loaded (found by path, so nothing
is loaded twice); where that library cannot be found its messages stay as they were.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

_handlers: list[object] = []  # the ctypes callbacks, kept alive as long as libtiff may call them
_install_lock = threading.Lock()
_TIFF_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)


@contextmanager
def decoder_messages_logged() -> Iterator[None]:
    """Around a decode: its warnings and libtiff's messages are logged instead of printed.

    Python keeps one list of warning filters for the whole process, so a warning another thread
    gives meanwhile is logged with these too (never lost)."""
    _log_libtiff_messages()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                log.info("decoder warning: %s", warning.message)


def _log_libtiff_messages() -> None:
    with _install_lock:
        if _handlers:
            return
        _handlers.append(None)  # tried: once is enough, found or not
        library = _loaded_libtiff()
        if library is None:
            return
        try:
            libtiff = ctypes.CDLL(str(library))
            for name, level in (("TIFFSetWarningHandler", logging.INFO),
                                ("TIFFSetErrorHandler", logging.INFO)):
                handler = _TIFF_HANDLER(_logger_at(level))
                getattr(libtiff, name).argtypes = [_TIFF_HANDLER]
                getattr(libtiff, name)(handler)
                _handlers.append(handler)
        except (OSError, AttributeError) as error:
            log.debug("libtiff messages stay on stderr: %s", error)


def _logger_at(level: int):
    libc = ctypes.CDLL(None)  # the C library of this process, for its vsnprintf
    libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                               ctypes.c_void_p]

    def handle(module: bytes | None, message: bytes | None, arguments: int | None) -> None:
        text = ctypes.create_string_buffer(1024)
        libc.vsnprintf(text, len(text), message or b"", arguments)  # printf's expansion
        log.log(level, "libtiff %s: %s", (module or b"").decode(errors="replace"),
                text.value.decode(errors="replace"))

    return handle


def _loaded_libtiff() -> Path | None:
    """The libtiff shared library this process has loaded for Pillow (Linux: /proc/self/maps)."""
    from PIL import Image  # noqa: F401 -- loads Pillow's C core, and with it libtiff

    maps = Path("/proc/self/maps")
    if not maps.is_file():
        return None
    for line in maps.read_text().splitlines():
        path = line.split(maxsplit=5)[-1]
        if Path(path).name.startswith("libtiff") and ".so" in path:
            return Path(path)
    return None
