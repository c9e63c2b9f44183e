"""Inputs that used to slip through: pipes, sockets and devices; damaged files of known formats;
running out of memory; AVIF and HEIC; deep colour converted exactly in little memory; decoders'
messages kept off the terminal."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.core import imagefile, photo_pixels
from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.imagefile import AVIF, load_image, save_image

ROOT = Path(__file__).resolve().parents[2]


def noise(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def refusal(path: Path) -> str:
    """The sentence opening `path` gives, within 10 s (a pipe must not block)."""
    answer: list[BaseException] = []
    worker = threading.Thread(target=lambda: _open_into(path, answer), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"opening {path} blocked"
    assert answer and isinstance(answer[0], ImageFileError), answer
    return str(answer[0])


def _open_into(path: Path, answer: list[BaseException]) -> None:
    try:
        load_image(path)
    except BaseException as error:  # noqa: BLE001 -- handed to the test thread
        answer.append(error)


def test_a_pipe_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "photo.jpg"
    os.mkfifo(pipe)
    assert refusal(pipe) == "Cannot open photo.jpg: it is a pipe, not a photo file."


def test_a_socket_and_a_device_are_refused(tmp_path):
    path = tmp_path / "photo.png"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert refusal(path) == "Cannot open photo.png: it is a socket, not a photo file."
    finally:
        server.close()
    assert refusal(Path("/dev/zero")) == "Cannot open zero: it is a device, not a photo file."


def encoded(format: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(noise()).save(buffer, format=format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(("suffix", "format", "options"), [
    (".png", "PNG", {}), (".tif", "TIFF", {}), (".tif", "TIFF", {"compression": "tiff_lzw"}),
    (".jpg", "JPEG", {}), (".webp", "WEBP", {})])
@pytest.mark.parametrize("kept", [8, 20, 60, 0.5, -40])
def test_a_cut_off_file_of_a_known_format_is_called_damaged(tmp_path, suffix, format, options,
                                                             kept):
    data = encoded(format, **options)
    end = int(len(data) * kept) if isinstance(kept, float) else kept
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:end])
    try:
        load_image(path)
    except ImageFileError as error:
        assert str(error) == f"Cannot open cut{suffix}: the file is damaged or incomplete."
    else:
        assert kept == -40 and format == "PNG"  # only the end chunk is missing: it decodes


def test_something_else_is_not_a_photo(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: bread, milk\n")
    assert "it is not a photo PaintNoise can open" in refusal(path)


def test_running_out_of_memory_while_opening_is_a_sentence(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(noise()).save(path)

    def no_memory(*_args, **_kwargs):
        raise MemoryError

    for module, name in ((photo_pixels, "_rgb_or_rgba"), (imagefile, "orientation_and_exif"),
                         (imagefile, "upright")):
        with monkeypatch.context() as patch:
            patch.setattr(module, name, no_memory)
            with pytest.raises(ImageFileError) as caught:
                load_image(path)
        assert str(caught.value).startswith(
            "Cannot open big.png: there is not enough memory to open a photo this large.")


@pytest.mark.skipif(not AVIF, reason="this Pillow was built without AVIF")
def test_avif_saves_and_opens(tmp_path):
    path = tmp_path / "photo.avif"
    smooth = cv2.GaussianBlur(noise(96, 64), (0, 0), 3)
    save_image(path, smooth, quality=95)
    loaded = load_image(path)
    assert loaded.format == "AVIF" and loaded.rgb.shape == smooth.shape
    assert np.abs(loaded.rgb.astype(int) - smooth).mean() < 4
    assert ".avif" in imagefile.OPEN_FILTER and imagefile.format_for_path(path) == "AVIF"


def test_heic_opens_with_the_installed_dependencies(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    path = tmp_path / "phone.heic"
    smooth = cv2.GaussianBlur(noise(96, 64), (0, 0), 3)
    pillow_heif.from_pillow(Image.fromarray(smooth)).save(path, quality=95)
    loaded = load_image(path)
    assert loaded.format == "HEIF" and loaded.rgb.shape == smooth.shape
    assert np.abs(loaded.rgb.astype(int) - smooth).mean() < 6


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_png_becomes_exactly_round_v_times_255_over_65535(tmp_path, channels):
    wide = np.random.default_rng(1).integers(0, 65536, (37, 53, channels), np.uint16)
    wide[0, :4, 0] = (0, 128, 129, 65535)  # the rounding's edges: 0, 0, 1, 255
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), wide)  # OpenCV writes BGR(A)
    loaded = load_image(path)
    expected = np.rint(wide[..., [2, 1, 0, 3][:channels]] * (255 / 65535)).astype(np.uint8)
    assert np.array_equal(loaded.rgb, expected[..., :3])
    if channels == 4:
        assert np.array_equal(loaded.alpha, expected[..., 3])
    assert loaded.notes[0] == "16-bit photo: edited at 8 bits per channel"
    assert loaded.rgb.flags.writeable and loaded.rgb.flags.c_contiguous
    assert loaded.rgb.nbytes == 37 * 53 * 3 and expected[0, :4, 2].tolist() == [0, 0, 1, 255]


def test_float_photos_convert_band_by_band_with_the_same_rule(monkeypatch):
    values = np.random.default_rng(2).normal(0, 3, (40, 30)).astype(np.float32)
    values[3, 3], values[4, 4] = np.nan, np.inf
    monkeypatch.setattr(photo_pixels, "BAND_BYTES", 1000)  # many bands
    banded = photo_pixels._scale_wide(values)
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    whole = np.where(np.isfinite(values), values, low).astype(np.float64)
    assert np.array_equal(banded, np.rint((whole - low) * (255 / (high - low))).astype(np.uint8))


def test_the_16_bit_memory_benchmark_runs_on_a_small_photo(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_open16
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = tmp_path / "wide.png"
    bench_open16.make_png(path, 400, 300)
    with Image.open(path) as image:
        assert image.size == (400, 300) and photo_pixels.bits_per_channel(image) == 16
    found = bench_open16.measure(path)
    assert found["result_mb"] == pytest.approx(400 * 300 * 3 / 1e6, abs=0.1)
    assert found["notes"][0] == "16-bit photo: edited at 8 bits per channel"
    assert found["seconds"] > 0 and found["peak_mb"] >= 0 and found["traced_peak_mb"] > 0


def test_decoders_say_nothing_on_the_terminal(tmp_path):
    """A broken LZW TIFF makes libtiff print from C and Pillow warn: neither reaches stderr;
    the one sentence does, on one line."""
    data = bytearray(encoded("TIFF", compression="tiff_lzw"))
    data[20:200] = bytes(180)
    broken = tmp_path / "broken.tif"
    broken.write_bytes(data)
    exif_cut = tmp_path / "exif.tif"
    exif_cut.write_bytes(encoded("TIFF")[:100])
    script = ("import sys\nfrom paintnoise_desktop.core.imagefile import load_image\n"
              "for path in sys.argv[1:]:\n"
              "    try:\n        load_image(path)\n"
              "    except Exception as error:\n        print(error, file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", script, str(broken), str(exif_cut)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.stderr.splitlines() == [
        "Cannot open broken.tif: the file is damaged or incomplete.",
        "Cannot open exif.tif: the file is damaged or incomplete."], run.stderr


def test_libtiff_messages_go_to_the_log_in_full(tmp_path, caplog):
    data = bytearray(encoded("TIFF", compression="tiff_lzw"))
    data[20:200] = bytes(180)
    broken = tmp_path / "broken.tif"
    broken.write_bytes(data)
    with caplog.at_level("INFO", logger="paintnoise_desktop.core.decoder_messages"):
        assert "damaged" in refusal(broken)
    assert any(record.getMessage().startswith("libtiff LZWDecode: Not enough data at scanline 0")
               for record in caplog.records), caplog.text
