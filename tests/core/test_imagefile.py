"""Opening and saving photos: orientation, metadata, bit depths, broken files, atomic saves."""

from __future__ import annotations

import errno
import os
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile, ImageOps

from paintnoise_desktop.core import imagefile
from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.imagefile import (
    MAX_PIXELS,
    default_export_path,
    format_for_path,
    load_image,
    save_image,
)

ORIENTATION = 0x0112
MAKE = 0x010F
DATE_TAKEN = 0x9003
EXIF_IFD = 0x8769

# How each orientation's stored pixels are made from the upright photo: the inverse of the
# transpose that Pillow's exif_transpose applies when reading.
STORED_BY_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def photo(height: int = 48, width: int = 64) -> np.ndarray:
    """An image that looks different under every flip and rotation."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // (width - 1), y * 255 // (height - 1), (x * 3 + y * 7) % 256], axis=2)
    rgb[2:10, 3:20] = (255, 0, 0)  # a mark near the top-left corner
    return rgb.astype(np.uint8)


def smooth_photo(height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 3 + 20, y * 4 + 10, (x + y) * 2 + 30], axis=2)
    return rgb.astype(np.uint8)


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PaintNoise Camera"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(EXIF_IFD)[DATE_TAKEN] = "2024:05:01 12:34:56"
    return exif


def read_exif(data: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(data)
    return exif


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but holds a few bytes of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


# --- orientation ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_same_upright_pixels(tmp_path, suffix, orientation):
    upright = photo()
    stored = Image.fromarray(upright)
    if STORED_BY_ORIENTATION[orientation] is not None:
        stored = stored.transpose(STORED_BY_ORIENTATION[orientation])
    path = tmp_path / f"photo{suffix}"
    stored.save(path, exif=camera_exif(orientation).tobytes(), quality=98)
    with Image.open(path) as image:
        pillows_upright = np.asarray(ImageOps.exif_transpose(image))

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, pillows_upright)
    if suffix == ".jpg":
        assert np.abs(loaded.rgb.astype(int) - upright).mean() < 4
    else:
        assert np.array_equal(loaded.rgb, upright)
    exif = read_exif(loaded.exif)
    assert exif[ORIENTATION] == 1
    assert exif[MAKE] == "PaintNoise Camera"
    assert exif.get_ifd(EXIF_IFD)[DATE_TAKEN] == "2024:05:01 12:34:56"


def test_only_the_orientation_bytes_change_in_the_exif(tmp_path):
    original = camera_exif(6).tobytes()
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo()).save(path, exif=original)

    loaded = load_image(path)

    assert len(loaded.exif) == len(original)
    differing = [i for i, (a, b) in enumerate(zip(loaded.exif, original)) if a != b]
    assert len(differing) == 1
    assert read_exif(loaded.exif)[ORIENTATION] == 1


@pytest.mark.parametrize("orientation", [1, 8])
def test_alpha_turns_with_the_pixels_and_both_are_writable(tmp_path, orientation):
    upright = photo()
    alpha = upright[..., 0]
    stored = Image.fromarray(np.dstack([upright, alpha]), "RGBA")
    if orientation == 8:
        stored = stored.transpose(STORED_BY_ORIENTATION[8])
    path = tmp_path / "photo.png"
    stored.save(path, exif=camera_exif(orientation).tobytes())

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, upright)
    assert np.array_equal(loaded.alpha, alpha)
    for pixels in (loaded.rgb, loaded.alpha):
        assert pixels.flags.writeable and pixels.flags.c_contiguous
        assert pixels.dtype == np.uint8


# --- metadata and round trips ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_icc_and_exif_survive_save_and_load(tmp_path, suffix):
    icc = srgb_profile()
    path = tmp_path / f"edited{suffix}"

    save_image(path, photo(), exif=camera_exif(6).tobytes(), icc_profile=icc)
    loaded = load_image(path)

    assert loaded.icc_profile == icc
    exif = read_exif(loaded.exif)
    assert exif[MAKE] == "PaintNoise Camera"
    assert exif.get_ifd(EXIF_IFD)[DATE_TAKEN] == "2024:05:01 12:34:56"
    assert exif[ORIENTATION] == 1  # the saved pixels are upright, so no turn on reading
    assert loaded.rgb.shape == photo().shape


@pytest.mark.parametrize(("suffix", "quality"), [(".png", 95), (".tif", 95), (".webp", 100)])
def test_lossless_round_trip_is_exact_with_alpha(tmp_path, suffix, quality):
    rgb = photo()
    alpha = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    path = tmp_path / f"edited{suffix}"

    save_image(path, rgb, alpha=alpha, quality=quality)
    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, rgb)
    assert np.array_equal(loaded.alpha, alpha)
    assert loaded.format == format_for_path(path)
    assert loaded.notes == ()


def test_jpeg_round_trip_is_close_and_drops_alpha(tmp_path):
    rgb = smooth_photo()
    path = tmp_path / "edited.jpg"

    save_image(path, rgb, alpha=np.zeros(rgb.shape[:2], np.uint8))
    loaded = load_image(path)

    assert loaded.format == "JPEG"
    assert loaded.alpha is None
    assert np.abs(loaded.rgb.astype(int) - rgb).mean() < 2


def test_the_format_argument_overrides_the_suffix(tmp_path):
    path = tmp_path / "edited.data"
    save_image(path, photo(), format="png")
    assert load_image(path).format == "PNG"


# --- bit depths and colour modes ---------------------------------------------------------------


def expected_8bit(values: np.ndarray) -> np.ndarray:
    return np.array([round(int(v) * 255 / 65535) for v in values.ravel()]).reshape(values.shape)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_grey_uses_the_full_range_without_clipping(tmp_path, suffix):
    ramp = np.linspace(0, 65535, 64 * 16).round().astype(np.uint16).reshape(16, 64)
    path = tmp_path / f"deep{suffix}"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I;16")

    loaded = load_image(path)

    grey = loaded.rgb[..., 0].ravel()
    assert grey[0] == 0 and grey[-1] == 255
    assert np.all(np.diff(grey.astype(int)) >= 0)
    assert np.array_equal(loaded.rgb[..., 0], expected_8bit(ramp))
    assert np.array_equal(loaded.rgb[..., 0], loaded.rgb[..., 2])
    assert "16-bit photo: edited at 8 bits per channel" in loaded.notes


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_colour_uses_the_full_range_without_clipping(tmp_path, suffix, channels):
    ramp = np.linspace(0, 65535, 16 * 16 * channels).round().astype(np.uint16)
    deep = ramp.reshape(16, 16, channels)
    path = tmp_path / f"deep{suffix}"
    bgr = deep[..., [2, 1, 0, 3][:channels]]
    assert cv2.imwrite(str(path), bgr)

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, expected_8bit(deep[..., :3]))
    if channels == 4:
        assert np.array_equal(loaded.alpha, expected_8bit(deep[..., 3]))
        assert loaded.alpha.max() == 255
    else:
        assert loaded.alpha is None
    assert loaded.rgb.min() == 0 and loaded.rgb.max() == 255
    assert "16-bit photo: edited at 8 bits per channel" in loaded.notes


def as_stored(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a file stores for an upright photo under an orientation (Pillow's turns)."""
    height, width, channels = upright.shape
    index = Image.fromarray(np.arange(height * width, dtype=np.int32).reshape(height, width), "I")
    if STORED_BY_ORIENTATION[orientation] is not None:
        index = index.transpose(STORED_BY_ORIENTATION[orientation])
    order = np.asarray(index)
    return upright.reshape(-1, channels)[order.ravel()].reshape(*order.shape, channels)


def uncompressed_tiff(
    pixels: np.ndarray, photometric: int, orientation: int = 1, extra_samples: tuple[int, ...] = ()
) -> bytes:
    """A little-endian, one-strip TIFF of H x W x samples pixels, for what Pillow cannot write
    (16-bit colour, premultiplied alpha, an orientation tag)."""
    height, width, samples = pixels.shape
    bits = (pixels.dtype.itemsize * 8,) * samples
    fields = [  # tag, type (3 SHORT, 4 LONG), values
        (256, 4, (width,)),
        (257, 4, (height,)),
        (258, 3, bits),
        (259, 3, (1,)),
        (262, 3, (photometric,)),
        (273, 4, (0,)),  # the strip offset, filled in below
        (274, 3, (orientation,)),
        (277, 3, (samples,)),
        (278, 4, (height,)),
        (279, 4, (pixels.nbytes,)),
        (284, 3, (1,)),
    ]
    if extra_samples:
        fields.append((338, 3, extra_samples))
    ifd_size = 2 + 12 * len(fields) + 4
    extra = b""  # values longer than four bytes live after the IFD
    entries = b""
    strip_offset = 8 + ifd_size + sum(2 * len(v) for _, t, v in fields if 2 * len(v) > 4)
    for tag, kind, values in fields:
        values = (strip_offset,) if tag == 273 else values
        data = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(data) > 4:
            entries += struct.pack("<HHII", tag, kind, len(values), 8 + ifd_size + len(extra))
            extra += data
        else:
            entries += struct.pack("<HHI", tag, kind, len(values)) + data.ljust(4, b"\x00")
    ifd = struct.pack("<H", len(fields)) + entries + struct.pack("<I", 0)
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd
        + extra
        + pixels.astype(f"<u{pixels.dtype.itemsize}").tobytes()
    )


@pytest.mark.parametrize("orientation", [1, 3, 6, 7])
def test_16bit_colour_tiff_is_turned_upright_once(tmp_path, orientation):
    upright = np.linspace(0, 65535, 12 * 20 * 3).round().astype(np.uint16).reshape(12, 20, 3)
    deep = as_stored(upright, orientation)
    path = tmp_path / "deep.tif"
    path.write_bytes(uncompressed_tiff(deep, photometric=2, orientation=orientation))

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, expected_8bit(upright))


def test_16bit_colour_png_follows_its_exif_orientation(tmp_path):
    deep = np.linspace(0, 65535, 12 * 20 * 3).round().astype(np.uint16).reshape(12, 20, 3)
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), deep[..., ::-1])
    data = path.read_bytes()
    exif_chunk = png_chunk(b"eXIf", camera_exif(6).tobytes()[6:])
    path.write_bytes(data[:33] + exif_chunk + data[33:])  # right after IHDR

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, np.rot90(expected_8bit(deep), -1))
    assert read_exif(loaded.exif)[ORIENTATION] == 1


def test_16bit_grey_with_alpha_uses_the_full_range(tmp_path):
    grey = np.linspace(0, 65535, 32).round().astype(np.uint16).reshape(4, 8)
    alpha = grey[::-1, ::-1]
    rows = np.dstack([grey, alpha]).astype(">u2").reshape(4, -1)
    pixels = b"".join(b"\x00" + row.tobytes() for row in rows)
    path = tmp_path / "deep.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 4, 16, 4, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(pixels))
        + png_chunk(b"IEND", b"")
    )

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb[..., 0], expected_8bit(grey))
    assert np.array_equal(loaded.rgb[..., 2], expected_8bit(grey))
    assert np.array_equal(loaded.alpha, expected_8bit(alpha))


def test_32bit_integers_within_16_bits_scale_like_16_bits(tmp_path):
    values = np.array([[0, 32768, 65535, 1000]], dtype=np.int32)
    path = tmp_path / "deep.tif"
    Image.fromarray(values, "I").save(path)

    loaded = load_image(path)

    assert loaded.rgb[0, :, 0].tolist() == expected_8bit(values[0]).tolist()
    assert "32-bit photo: edited at 8 bits per channel" in loaded.notes


def test_32bit_integers_beyond_16_bits_are_stretched_not_clipped(tmp_path):
    values = np.array([[-70000, 0, 70000, 140000]], dtype=np.int32)
    path = tmp_path / "deep.tif"
    Image.fromarray(values, "I").save(path)

    grey = load_image(path).rgb[0, :, 0]

    assert grey.tolist() == [0, 85, 170, 255]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5, 1.0, 0.25], [0, 128, 255, 64]),
        ([-1.0, 0.0, 1.0, 3.0], [0, 64, 128, 255]),
        ([np.nan, 0.0, 1.0, np.inf], [0, 0, 255, 0]),
    ],
)
def test_floats_become_8_bits(tmp_path, values, expected):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([values], dtype=np.float32), "F").save(path)

    assert load_image(path).rgb[0, :, 0].tolist() == expected


def test_premultiplied_grey_alpha_is_unpremultiplied(tmp_path):
    premultiplied = np.dstack([np.full((4, 4), 100), np.full((4, 4), 128)]).astype(np.uint8)
    path = tmp_path / "la.tif"
    path.write_bytes(uncompressed_tiff(premultiplied, photometric=1, extra_samples=(1,)))
    with Image.open(path) as image:
        assert image.mode == "La"

    loaded = load_image(path)

    assert loaded.rgb[0, 0].tolist() == [199, 199, 199]  # 100 * 255 / 128
    assert loaded.alpha[0, 0] == 128


def test_lab_becomes_rgb_without_mistaking_a_for_alpha(tmp_path):
    path = tmp_path / "lab.tif"
    Image.new("LAB", (4, 4), (128, 128, 128)).save(path)  # mid grey

    loaded = load_image(path)

    assert loaded.alpha is None
    assert np.all(np.abs(loaded.rgb.astype(int) - 119) <= 2)
    assert "LAB photo: converted to RGB" in loaded.notes


def test_palette_with_transparency_keeps_its_alpha(tmp_path):
    indices = np.zeros((8, 8), np.uint8)
    indices[2:6, 2:6] = 1
    image = Image.fromarray(indices, "P")
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)

    loaded = load_image(path)

    assert loaded.rgb[3, 3].tolist() == [200, 100, 50]
    assert loaded.alpha[3, 3] == 255 and loaded.alpha[0, 0] == 0
    assert loaded.notes == ()


def test_grey_with_alpha_keeps_its_alpha(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    alpha = 255 - grey
    path = tmp_path / "la.png"
    Image.merge("LA", [Image.fromarray(grey), Image.fromarray(alpha)]).save(path)

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb[..., 1], grey)
    assert np.array_equal(loaded.alpha, alpha)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_becomes_rgb_with_a_note(tmp_path, suffix):
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[:, :4] = (0, 255, 255, 0)  # red
    cmyk[:, 4:] = (0, 0, 0, 255)  # black
    path = tmp_path / f"print{suffix}"
    Image.fromarray(cmyk, "CMYK").save(path, quality=100)

    loaded = load_image(path)

    assert np.all(np.abs(loaded.rgb[4, 1].astype(int) - (255, 0, 0)) <= 3)
    assert np.all(loaded.rgb[4, 6] <= 3)
    assert loaded.icc_profile is None
    assert any(note.startswith("CMYK photo: converted to RGB") for note in loaded.notes)


def cmyk_profile_to(lab: tuple[float, float, float]) -> bytes:
    """An ICC v2 CMYK profile whose A2B0 table sends every CMYK colour to one Lab colour."""

    def fixed(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    lightness, a, b = lab
    entry = bytes([round(lightness * 255 / 100), round(a + 128), round(b + 128)])
    identity = bytes(range(256))
    matrix = b"".join(fixed(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + matrix + identity * 4 + entry * 16
    lut += identity * 3
    size = 128 + 16 + len(lut)
    header = struct.pack(">I4sI", size, bytes(4), 0x02100000) + b"prtrCMYKLab " + bytes(12)
    header += b"acsp" + bytes(28) + fixed(0.9642) + fixed(1.0) + fixed(0.8249) + bytes(48)
    return header + struct.pack(">I4sII", 1, b"A2B0", 144, len(lut)) + lut


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_goes_through_its_embedded_profile(tmp_path, suffix):
    path = tmp_path / f"print{suffix}"
    red = np.full((8, 8, 4), (0, 255, 255, 0), np.uint8)
    green_profile = cmyk_profile_to((87.7, -86.2, 83.2))  # sRGB's green in Lab
    Image.fromarray(red, "CMYK").save(path, icc_profile=green_profile, quality=100)

    loaded = load_image(path)

    red_, green, blue = loaded.rgb[4, 4].tolist()
    assert green > 200 and red_ < 40 and blue < 40  # the profile's answer, not naive red
    assert loaded.icc_profile is None  # a CMYK profile would not describe the RGB pixels
    assert "CMYK photo: converted to RGB through its colour profile" in loaded.notes


def test_cmyk_with_an_unusable_profile_falls_back_and_drops_it(tmp_path):
    path = tmp_path / "print.tif"
    cmyk = np.full((8, 8, 4), (0, 255, 255, 0), np.uint8)
    Image.fromarray(cmyk, "CMYK").save(path, icc_profile=srgb_profile())

    loaded = load_image(path)

    assert loaded.rgb[0, 0].tolist() == [255, 0, 0]
    assert loaded.icc_profile is None
    assert "without a colour profile" in " ".join(loaded.notes)


def test_a_grey_profile_is_not_kept_for_rgb_pixels(tmp_path):
    grey_profile = bytearray(srgb_profile())
    grey_profile[16:20] = b"GRAY"
    path = tmp_path / "grey.png"
    Image.new("L", (8, 8), 128).save(path, icc_profile=bytes(grey_profile))

    loaded = load_image(path)

    assert loaded.icc_profile is None
    assert loaded.rgb[0, 0].tolist() == [128, 128, 128]


def test_multi_page_tiff_gives_the_first_page_with_a_note(tmp_path):
    path = tmp_path / "pages.tif"
    first, second = photo(), 255 - photo()
    Image.fromarray(first).save(path, save_all=True, append_images=[Image.fromarray(second)])

    loaded = load_image(path)

    assert np.array_equal(loaded.rgb, first)
    assert "The file holds 2 images: only the first is edited" in loaded.notes


def test_multi_picture_jpeg_opens_as_jpeg(tmp_path):
    path = tmp_path / "camera.jpg"
    first = Image.fromarray(smooth_photo())
    first.save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))], quality=98)
    with Image.open(path) as image:
        assert image.format == "MPO"

    loaded = load_image(path)

    assert loaded.format == "JPEG"
    assert loaded.rgb.shape == smooth_photo().shape
    assert "The file holds 2 images: only the first is edited" in loaded.notes


def test_a_png_named_jpg_opens_by_its_content(tmp_path):
    path = tmp_path / "holiday.jpg"
    Image.fromarray(photo()).save(path, format="PNG")

    loaded = load_image(path)

    assert loaded.format == "PNG"
    assert np.array_equal(loaded.rgb, photo())


def test_heic_without_pillow_heif_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes the import fail
    path = tmp_path / "phone.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))

    with pytest.raises(ImageFileError, match=r"phone\.heic.*pip install pillow-heif"):
        load_image(path)


def test_heic_opens_upright_when_pillow_heif_is_installed(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "phone.heic"
    Image.fromarray(smooth_photo()).save(path, exif=camera_exif(6).tobytes(), quality=95)

    loaded = load_image(path)

    assert loaded.format == "HEIF"
    assert loaded.rgb.shape == (64, 48, 3)  # turned by the orientation
    assert read_exif(loaded.exif)[ORIENTATION] == 1


# --- broken and hostile files ------------------------------------------------------------------


def test_zero_byte_file(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageFileError, match=r"^Cannot open holiday\.jpg: the file is empty\.$"):
        load_image(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_file_is_damaged(tmp_path, suffix):
    path = tmp_path / f"holiday{suffix}"
    noisy = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noisy).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])

    with pytest.raises(ImageFileError) as caught:
        load_image(path)

    assert str(caught.value) == f"Cannot open holiday{suffix}: the file is damaged or incomplete."


@pytest.mark.parametrize("content", [b"Dear Sam, the holiday was lovely.\n", bytes(range(256)) * 4])
def test_a_file_that_is_no_image(tmp_path, content):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageFileError, match=r"^Cannot open holiday\.jpg: it is not a photo"):
        load_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageFileError, match=r"^Cannot open gone\.jpg: the file does not exist\.$"):
        load_image(tmp_path / "gone.jpg")


def test_folder(tmp_path):
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    with pytest.raises(ImageFileError, match=r"^Cannot open album\.jpg: it is a folder"):
        load_image(folder)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs a user that permissions stop"
)
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    Image.fromarray(photo()).save(path)
    path.chmod(0)
    with pytest.raises(ImageFileError, match=r"^Cannot open secret\.png: permission denied\.$"):
        load_image(path)


@pytest.fixture
def decodes(monkeypatch) -> list[Path]:
    """Records every decode, to prove that oversized images are refused from their header."""
    calls = []
    original = ImageFile.ImageFile.load

    def recording_load(image):
        calls.append(image)
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return calls


@pytest.mark.parametrize(
    ("width", "height", "megapixels"), [(100_000, 100_000, "10,000"), (13_000, 13_000, "169")]
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_huge_header_is_refused_without_decoding(tmp_path, decodes, width, height, megapixels):
    assert width * height > MAX_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_header(width, height))

    with pytest.raises(ImageFileError) as caught:
        load_image(path)

    assert str(caught.value) == (
        f"Cannot open bomb.png: the image is too large to open safely "
        f"({megapixels} megapixels; the limit is {MAX_PIXELS // 10**6})."
    )
    assert decodes == []


SIGNATURES = [
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF\x00\x01\x00\x00WEBPVP8 ",
]
HYPOTHESIS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def open_or_refuse(path: Path) -> None:
    """Opening either gives a photo or one clear ImageFileError naming the file, nothing else."""
    try:
        loaded = load_image(path)
    except ImageFileError as error:
        assert str(error).startswith(f"Cannot open {path.name}: ")
    else:
        assert loaded.rgb.dtype == np.uint8 and loaded.rgb.ndim == 3


@HYPOTHESIS
@given(signature=st.sampled_from(SIGNATURES), body=st.binary(max_size=512))
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on damaged metadata
def test_random_bytes_raise_nothing_but_image_file_error(tmp_path, signature, body):
    path = tmp_path / "random.jpg"
    path.write_bytes(signature + body)
    open_or_refuse(path)


@pytest.fixture(scope="module")
def sound_files(tmp_path_factory) -> dict[str, bytes]:
    """Small valid photos, with EXIF and a profile, for the damage below to start from."""
    folder = tmp_path_factory.mktemp("sound")
    files = {}
    for suffix in (".jpg", ".png", ".webp", ".tif"):
        path = folder / f"photo{suffix}"
        save_image(path, photo(16, 24), exif=camera_exif(6).tobytes(), icc_profile=srgb_profile())
        files[suffix] = path.read_bytes()
    return files


@HYPOTHESIS
@given(
    suffix=st.sampled_from([".jpg", ".png", ".webp", ".tif"]),
    damage=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    keep=st.floats(0.05, 1),
)
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on damaged metadata
def test_damaged_photos_raise_nothing_but_image_file_error(
    tmp_path, sound_files, suffix, damage, keep
):
    data = bytearray(sound_files[suffix])
    for where, value in damage:
        data[int(where * len(data))] = value
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(bytes(data[: max(1, int(keep * len(data)))]))
    open_or_refuse(path)


# --- saving --------------------------------------------------------------------------------------


def temporary_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_save_that_fails_before_the_swap_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "holiday.jpg"
    save_image(path, photo())
    old = path.read_bytes()

    def full_disk(_descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(imagefile.os, "fsync", full_disk)  # after the photo was written out
    with pytest.raises(ImageFileError) as caught:
        save_image(path, 255 - photo())

    assert str(caught.value) == (
        "Could not save holiday.jpg: the disk is full. The original file is unchanged."
    )
    assert path.read_bytes() == old
    assert temporary_files(tmp_path) == []


def test_a_save_that_fails_in_the_encoder_leaves_the_old_file(tmp_path):
    path = tmp_path / "holiday.jpg"
    save_image(path, photo())
    old = path.read_bytes()
    too_long = camera_exif().tobytes() + bytes(70_000)  # JPEG markers hold 64 KB

    with pytest.raises(ImageFileError, match=r"The original file is unchanged\.$"):
        save_image(path, 255 - photo(), exif=too_long)

    assert path.read_bytes() == old
    assert temporary_files(tmp_path) == []


def test_saving_into_a_missing_folder(tmp_path):
    with pytest.raises(ImageFileError, match=r"^Could not save a\.png: .*Nothing was written\.$"):
        save_image(tmp_path / "missing" / "a.png", photo())


def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "holiday.png"
    save_image(path, photo())
    path.chmod(0o640)
    save_image(path, 255 - photo())
    assert path.stat().st_mode & 0o777 == 0o640
    assert np.array_equal(load_image(path).rgb, 255 - photo())


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs a user that permissions stop"
)
def test_a_read_only_file_is_not_replaced(tmp_path):
    path = tmp_path / "holiday.png"
    save_image(path, photo())
    old = path.read_bytes()
    path.chmod(0o444)

    with pytest.raises(
        ImageFileError, match=r"^Could not save holiday\.png: the file is read-only"
    ):
        save_image(path, 255 - photo())

    assert path.read_bytes() == old


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ImageFileError, match=r"^Cannot save photo\.bmp: PaintNoise saves \.jpg"):
        save_image(tmp_path / "photo.bmp", photo())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jpg", "JPEG"),
        ("a.JPEG", "JPEG"),
        ("a.png", "PNG"),
        ("a.webp", "WEBP"),
        ("a.tif", "TIFF"),
        ("a.TIFF", "TIFF"),
    ],
)
def test_format_for_path(name, expected):
    assert format_for_path(name) == expected


@pytest.mark.parametrize("name", ["photo.heic", "photo.bmp", "photo"])
def test_format_for_path_refuses_what_cannot_be_saved(name):
    with pytest.raises(ImageFileError, match="PaintNoise saves .jpg, .jpeg, .png, .webp, .tif"):
        format_for_path(name)


def test_default_export_path_never_overwrites(tmp_path):
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"original")

    first = default_export_path(source)
    assert first == tmp_path / "photo-edited.jpg"
    first.write_bytes(b"edit 1")
    second = default_export_path(source)
    assert second == tmp_path / "photo-edited-2.jpg"
    second.write_bytes(b"edit 2")
    assert default_export_path(source) == tmp_path / "photo-edited-3.jpg"
    assert source.read_bytes() == b"original"


def test_default_export_path_of_an_unsaveable_format_is_jpeg(tmp_path):
    assert default_export_path(tmp_path / "phone.HEIC") == tmp_path / "phone-edited.jpg"
    assert default_export_path(tmp_path / "scan.TIF") == tmp_path / "scan-edited.TIF"
