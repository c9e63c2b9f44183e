from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paintnoise_desktop.core.box import slices
from paintnoise_desktop.core.brush import Brush, Stroke
from paintnoise_desktop.core.document import Document
from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.history import History

HEIGHT, WIDTH = 10, 12


def photo(height=HEIGHT, width=WIDTH, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def paint_stroke(doc: Document, points, brush: Brush):
    stroke = Stroke(doc.mask, brush)
    for x, y in points:
        stroke.add_point(x, y)
    finished = stroke.finish()
    return None if finished is None else doc.record_stroke("Brush", *finished)


def test_from_array_copies_and_starts_with_an_empty_mask_and_clean_history():
    rgb = photo()
    alpha = np.full((HEIGHT, WIDTH), 200, np.uint8)
    doc = Document.from_array(rgb, alpha)
    assert (doc.width, doc.height) == (WIDTH, HEIGHT)
    assert doc.mask.shape == (HEIGHT, WIDTH) and not doc.mask.any()
    assert doc.rgb is not rgb and doc.path is None and not doc.is_dirty
    doc.apply("Fill", (0, 0, 2, 2), rgb=np.zeros((2, 2, 3), np.uint8))
    assert rgb[0, 0].any() or not photo()[0, 0].any()  # the caller's array is untouched
    np.testing.assert_array_equal(rgb, photo())
    np.testing.assert_array_equal(doc.alpha, alpha)
    assert doc.is_dirty


def test_apply_records_only_the_box_and_undo_redo_restore_it():
    doc = Document.from_array(photo())
    start_rgb, start_mask = doc.rgb.copy(), doc.mask.copy()
    new_rgb = np.full((3, 4, 3), 7, np.uint8)
    new_mask = np.full((3, 4), 255, np.uint8)
    edit = doc.apply("Replace: a blue van", (2, 1, 6, 4), rgb=new_rgb, mask=new_mask)
    assert edit.rgb_before.shape == (3, 4, 3) and edit.mask_after.shape == (3, 4)
    assert not edit.rgb_after.flags.writeable
    assert doc.history.names == ["Replace: a blue van"]
    np.testing.assert_array_equal(doc.rgb[1:4, 2:6], new_rgb)
    after_rgb, after_mask = doc.rgb.copy(), doc.mask.copy()
    assert doc.undo() == (2, 1, 6, 4)
    np.testing.assert_array_equal(doc.rgb, start_rgb)
    np.testing.assert_array_equal(doc.mask, start_mask)
    assert doc.undo() is None
    assert doc.redo() == (2, 1, 6, 4)
    np.testing.assert_array_equal(doc.rgb, after_rgb)
    np.testing.assert_array_equal(doc.mask, after_mask)
    assert doc.redo() is None


def test_set_mask_records_the_changed_box_or_nothing():
    doc = Document.from_array(photo())
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    assert doc.set_mask("Clear mask", mask) is None and doc.history.names == []
    mask[3:5, 7:9] = 255
    edit = doc.set_mask("Grow mask", mask)
    assert edit.box == (7, 3, 9, 5) and edit.rgb_before is None
    np.testing.assert_array_equal(doc.mask, mask)
    assert mask is not doc.mask


def test_bad_boxes_and_patches_are_refused_without_changing_anything():
    doc = Document.from_array(photo())
    with pytest.raises(ValueError):
        doc.apply("x", (0, 0, WIDTH + 1, 2), mask=np.zeros((2, WIDTH + 1), np.uint8))
    with pytest.raises(ValueError):
        doc.apply("x", (0, 0, 2, 2), rgb=np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError):
        doc.apply("x", (0, 0, 2, 2))
    with pytest.raises(ValueError):
        doc.set_mask("x", np.zeros((3, 3), np.uint8))
    np.testing.assert_array_equal(doc.rgb, photo())
    assert doc.history.names == []


operations = st.one_of(
    st.tuples(
        st.sampled_from(["rgb", "mask", "both"]),
        st.integers(0, WIDTH - 1),
        st.integers(0, HEIGHT - 1),
        st.integers(1, WIDTH),
        st.integers(1, HEIGHT),
        st.integers(0, 2**16),
    ),
    st.tuples(st.just("set_mask"), st.integers(0, 2**16), st.sampled_from([0, 128, 255])),
    st.tuples(
        st.just("stroke"),
        st.lists(
            st.tuples(st.floats(-3, WIDTH + 3), st.floats(-3, HEIGHT + 3)), min_size=1, max_size=4
        ),
        st.floats(0.5, 4),
        st.floats(0, 1),
        st.booleans(),
    ),
    st.just(("undo",)),
    st.just(("redo",)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(operations, max_size=25))
def test_undo_redo_restore_exact_bytes_for_any_sequence(ops):
    doc = Document.from_array(photo())
    rgb_array, mask_array = doc.rgb, doc.mask
    states = [(doc.rgb.copy(), doc.mask.copy())]
    current = 0
    for op in ops:
        before_rgb, before_mask = doc.rgb.copy(), doc.mask.copy()
        kind = op[0]
        if kind in ("undo", "redo"):
            box = doc.undo() if kind == "undo" else doc.redo()
            possible = current > 0 if kind == "undo" else current < len(states) - 1
            assert (box is not None) == possible
            if box is not None:
                current += -1 if kind == "undo" else 1
                # Nothing outside the returned box changed.
                changed = (before_rgb != doc.rgb).any(axis=2) | (before_mask != doc.mask)
                changed[slices(box)] = False
                assert not changed.any()
        else:
            if kind == "set_mask":
                rng = np.random.default_rng(op[1])
                new_mask = np.where(rng.random((HEIGHT, WIDTH)) < 0.2, op[2], doc.mask)
                edit = doc.set_mask("Mask", new_mask.astype(np.uint8))
            elif kind == "stroke":
                _, points, radius, hardness, erase = op
                edit = paint_stroke(doc, points, Brush(radius, hardness, erase))
            else:
                _, x0, y0, w, h, seed = op
                box = (x0, y0, min(WIDTH, x0 + w), min(HEIGHT, y0 + h))
                rng = np.random.default_rng(seed)
                size = (box[3] - box[1], box[2] - box[0])
                rgb = rng.integers(0, 256, (*size, 3), dtype=np.uint8) if kind != "mask" else None
                mask = rng.integers(0, 256, size, dtype=np.uint8) if kind != "rgb" else None
                edit = doc.apply(kind, box, rgb=rgb, mask=mask)
            if edit is None:
                np.testing.assert_array_equal(doc.mask, before_mask)
            else:
                states = states[: current + 1] + [(doc.rgb.copy(), doc.mask.copy())]
                current += 1
        expected_rgb, expected_mask = states[current]
        np.testing.assert_array_equal(doc.rgb, expected_rgb)
        np.testing.assert_array_equal(doc.mask, expected_mask)
        assert doc.history.index == current
        assert doc.rgb is rgb_array and doc.mask is mask_array  # edited in place
        assert len(doc.history.names) == len(states) - 1


def test_memory_grows_with_what_strokes_touch_not_with_the_photo():
    doc = Document.from_array(photo(1500, 2000))
    rng = np.random.default_rng(5)
    for _ in range(50):
        x, y = rng.uniform(50, 1950), rng.uniform(50, 1450)
        paint_stroke(doc, [(x, y), (x + 20, y + 10), (x + 30, y - 5)], Brush(radius=8))
    assert doc.history.index == 50
    # Each stroke keeps two ~50 x 35 mask patches: about 175 kB for all 50,
    # where whole snapshots would take 50 x 12 MB.
    assert doc.history.nbytes < 250_000
    assert doc.history.nbytes < (doc.rgb.nbytes + doc.mask.nbytes) / 40


def test_the_budget_forgets_the_oldest_steps_and_undo_stops_there():
    doc = Document(photo(), history=History(budget_bytes=3 * 2 * 24))
    originals = []
    for i in range(5):
        originals.append(doc.mask.copy())
        doc.apply(f"step {i}", (i, 0, i + 4, 6), mask=np.full((6, 4), 50 * i, np.uint8))
    assert doc.history.names == ["step 2", "step 3", "step 4"]
    assert doc.history.nbytes == 3 * 2 * 24
    while doc.undo() is not None:
        pass
    np.testing.assert_array_equal(doc.mask, originals[2])


def test_saving_marks_clean_through_the_image_file_layer(tmp_path):
    rgb = photo(16, 20)
    alpha = np.full((16, 20), 255, np.uint8)
    alpha[0, 0] = 10
    doc = Document.from_array(rgb, alpha)
    doc.apply("Paint", (0, 0, 4, 4), rgb=np.zeros((4, 4, 3), np.uint8))
    assert doc.is_dirty
    target = tmp_path / "edited.png"
    doc.save(target)
    assert not doc.is_dirty and doc.saved_path == target and doc.path is None
    reopened = Document.open(target)
    np.testing.assert_array_equal(reopened.rgb, doc.rgb)
    np.testing.assert_array_equal(reopened.alpha, alpha)
    assert reopened.path == target and not reopened.is_dirty
    doc.undo()
    assert doc.is_dirty
    doc.redo()
    assert not doc.is_dirty
    with pytest.raises(ImageFileError):
        Document.open(tmp_path / "missing.jpg")


def test_saving_elsewhere_keeps_the_source_and_its_exif_and_colour_profile(tmp_path):
    from PIL import Image, ImageCms

    source = tmp_path / "holiday.jpg"
    exif = Image.Exif()
    exif[0x010F] = "PaintNoise Camera"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(photo(32, 48)).save(source, exif=exif, icc_profile=icc, quality=95)

    doc = Document.open(source)
    assert doc.path == source and doc.format == "JPEG" and doc.icc_profile == icc
    doc.apply("Paint", (0, 0, 8, 8), rgb=np.zeros((8, 8, 3), np.uint8))
    target = tmp_path / "holiday-edited.jpg"
    doc.save(target, quality=90)
    assert doc.path == source and doc.saved_path == target and not doc.is_dirty
    with Image.open(target) as saved:
        assert saved.getexif()[0x010F] == "PaintNoise Camera"
        assert saved.info["icc_profile"] == icc
    with Image.open(source) as untouched:
        assert np.asarray(untouched)[:8, :8].max() > 0


def test_only_pixel_edits_make_the_photo_unsaved():
    doc = Document.from_array(photo())
    assert paint_stroke(doc, [(2, 2), (6, 4)], Brush(radius=2)) is not None
    new_mask = doc.mask.copy()
    new_mask[8:, :] = 255
    assert doc.set_mask("Find: sky", new_mask) is not None
    assert doc.history.index == 2 and not doc.is_dirty  # the mask is not saved with the photo
    doc.apply("Remove", (0, 0, 3, 3), rgb=np.zeros((3, 3, 3), np.uint8))
    assert doc.is_dirty
    doc.undo()
    assert not doc.is_dirty
    doc.undo()
    np.testing.assert_array_equal(doc.mask[8:], 0)  # undoing mask steps still works


# -- merged steps ------------------------------------------------------------------------------


@pytest.mark.parametrize("first_box, then_box", [
    ((10, 10, 30, 30), (10, 10, 30, 30)),  # the same box
    ((12, 12, 20, 20), (5, 5, 40, 30)),  # the later one holds the first
    ((5, 5, 40, 30), (12, 12, 20, 20)),  # the first holds the later one
    ((2, 2, 12, 12), (30, 20, 50, 38)),  # apart: the union box has pixels neither touched
    ((2, 2, 30, 30), (20, 20, 50, 38)),  # overlapping
])
@pytest.mark.parametrize("layers", ["rgb", "mask", "mixed"])
def test_a_merged_step_undoes_and_redoes_both_exactly(first_box, then_box, layers):
    rng = np.random.default_rng(1)
    document = Document.from_array(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
    document.apply("Brush", (0, 0, 60, 40), mask=rng.integers(0, 256, (40, 60), dtype=np.uint8))
    start_rgb, start_mask = document.rgb.copy(), document.mask.copy()

    def patches(box, use_rgb, use_mask):
        h, w = box[3] - box[1], box[2] - box[0]
        return {"rgb": rng.integers(0, 256, (h, w, 3), dtype=np.uint8) if use_rgb else None,
                    "mask": rng.integers(0, 256, (h, w), dtype=np.uint8) if use_mask else None}

    first_layers = {"rgb": (True, False), "mask": (False, True), "mixed": (True, False)}[layers]
    then_layers = {"rgb": (True, False), "mask": (False, True), "mixed": (False, True)}[layers]
    document.apply("Step 1", first_box, **patches(first_box, *first_layers), merge_key="k")
    document.apply("Step 2", then_box, **patches(then_box, *then_layers), merge_key="k")
    end_rgb, end_mask = document.rgb.copy(), document.mask.copy()
    assert document.history.names == ["Brush", "Step 2"]
    extent = document.undo()
    assert np.array_equal(document.rgb, start_rgb) and np.array_equal(document.mask, start_mask)
    assert extent == (min(first_box[0], then_box[0]), min(first_box[1], then_box[1]),
                      max(first_box[2], then_box[2]), max(first_box[3], then_box[3]))
    assert document.redo() == extent
    assert np.array_equal(document.rgb, end_rgb) and np.array_equal(document.mask, end_mask)
