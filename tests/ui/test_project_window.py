"""Save Project / Open Project, recipes and autosave through the real window."""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from paintnoise_desktop.core.project import read_project
from paintnoise_desktop.core.recovery import AutosaveSchedule, orphans
from paintnoise_desktop.ui.autosave import Autosave
from paintnoise_desktop.ui.dialogs import UnsavedChoice

from .conftest import ACCEPT_SUGGESTION, BOX, photo


def _open(qtbot, window, path):
    with qtbot.waitSignal(window.files.opened, timeout=30_000) as opened:
        assert window.files.open_photo(path)
    assert opened.args == [True]


def _window_with_photo(qtbot, make_window, tmp_path):
    window = make_window()
    path = tmp_path / "photo.png"
    Image.fromarray(photo()).save(path)
    _open(qtbot, window, path)
    return window


def _edit(window):
    """A brushed mask, a repaint and another mask step; the last one undone."""
    session = window.session
    session.apply("Brush", (10, 10, 50, 40), mask=np.full((30, 40), 255, np.uint8))
    session.apply("Paint", (20, 20, 60, 60), rgb=np.full((40, 40, 3), 7, np.uint8))
    session.apply("Grow", (0, 0, 80, 70), mask=np.full((70, 80), 128, np.uint8))
    session.undo()


def _state(document):
    return (document.rgb.tobytes(), document.mask.tobytes(), document.history.index,
            document.history.names)


def test_save_project_and_open_it_again_step_for_step(qtbot, make_window, dialogs, tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    original = window.document.rgb.copy()
    _edit(window)
    edited = _state(window.document)
    dialogs.project_save_answers.append(ACCEPT_SUGGESTION)
    with qtbot.waitSignal(window.projects.saved, timeout=30_000) as saved:
        window.commands.save_project.trigger()
    assert saved.args == [True]
    assert dialogs.project_save_suggestions == [str(tmp_path / "photo.paintnoise")]
    assert not window.document.has_unsaved_work  # the project keeps the mask and the paint
    assert window.document.is_dirty  # the photo itself is not saved

    other = tmp_path / "other.png"
    Image.fromarray(photo(seed=3)).save(other)
    _open(qtbot, window, other)  # nothing to ask: all is in the project
    assert dialogs.unsaved_asked == []
    dialogs.project_open_answers.append(str(tmp_path / "photo.paintnoise"))
    with qtbot.waitSignal(window.files.opened, timeout=30_000):
        window.commands.open_project.trigger()
    assert _state(window.document) == edited
    assert window.commands.undo.isEnabled() and window.commands.redo.isEnabled()
    assert not window.document.has_unsaved_work
    while window.document.history.can_undo:
        window.session.undo()
    assert window.document.rgb.tobytes() == original.tobytes()
    assert window.document.has_unsaved_work is False  # back at the opened photo, no mask


def test_a_brushed_mask_asks_on_close_until_saved_in_a_project(qtbot, make_window, dialogs,
                                                                 tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    window.session.apply("Brush", (10, 10, 50, 40), mask=np.full((30, 40), 255, np.uint8))
    assert window.document.has_unsaved_work
    dialogs.project_save_answers.append(str(tmp_path / "masked"))  # the suffix is added
    with qtbot.waitSignal(window.projects.saved, timeout=30_000):
        window.projects.save()
    assert (tmp_path / "masked.paintnoise").is_file()
    window.close()
    assert dialogs.unsaved_asked == []


def test_a_replace_step_keeps_its_recipe_and_the_chosen_variant_s_seed(painted):
    window, _engine = painted
    recipe = window.document.history.top.recipe
    assert (recipe.kind, recipe.prompt, recipe.seed, recipe.crop_box) == (
        "replace", "a silver fork", 0, BOX)
    assert recipe.inpainter == window.settings.inpainter
    window.jobs.choose_variant(2)
    assert window.document.history.top.recipe.seed == 2


def test_autosave_writes_after_changes_stop_and_a_save_removes_it(qtbot, make_window, dialogs,
                                                                  tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    quick = Autosave(window.session, window, folder=tmp_path / "recovery",
                     schedule=AutosaveSchedule(debounce_s=0.2, interval_s=5))
    try:
        _edit(window)
        qtbot.waitUntil(lambda: quick.slot.snapshot.is_file() and quick.writes == 1,
                        timeout=10_000)
        recovered, _ = read_project(quick.slot.snapshot)
        assert _state(recovered) == _state(window.document)
        dialogs.save_answers.append(str(tmp_path / "saved.png"))
        with qtbot.waitSignal(window.files.saved, timeout=30_000):
            window.files.save()
        qtbot.waitUntil(lambda: not quick.slot.snapshot.exists(), timeout=5_000)
    finally:
        quick.close()
    assert list((tmp_path / "recovery").iterdir()) == []


def test_a_session_left_by_a_crash_is_offered_and_recovered(qtbot, make_window, dialogs,
                                                           tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    _edit(window)
    window.autosave.write_now().result()
    edited = _state(window.document)
    # What a kill leaves: the snapshot, and a lock nobody holds.
    folder = window.autosave.folder
    shutil.copyfile(window.autosave.slot.snapshot, folder / "0badc0ffee.paintnoise")
    (folder / "0badc0ffee.lock").write_text("999999\n")
    assert [o.snapshot.name for o in orphans(folder)] == ["0badc0ffee.paintnoise"]

    second = make_window()
    dialogs.recovery_answers.append("recover")
    chosen = second.projects.offer_recovery()
    offer = dialogs.recovery_offers[0][0]
    assert (offer.summary.name, offer.summary.steps) == ("photo.png", 2)
    with qtbot.waitSignal(second.projects.recovered, timeout=30_000) as recovered:
        second.projects.recover(chosen[0])
    assert recovered.args == [True]
    assert _state(second.document) == edited
    assert second.document.has_unsaved_work  # recovered, not saved anywhere yet
    assert second.autosave.slot.snapshot.is_file()  # adopted: a crash now still recovers it
    assert orphans(folder) == []
    second.session.redo()
    assert second.document.history.index == 3


def test_find_and_mask_steps_keep_their_recipes(qtbot, make_window, app_settings, tmp_path):
    from .test_main_window import KnownAnswerEngine, open_synthetic, square, wait_for_step

    engine = KnownAnswerEngine((square(2, 2, 10), square(40, 4, 10)))
    window = make_window(engine_factory=lambda settings: engine)
    open_synthetic(qtbot, window, tmp_path)
    window.jobs.find("red car, not road")
    wait_for_step(qtbot, window, "Find: red car, not road", 1)
    recipe = window.document.history.top.recipe
    assert (recipe.kind, recipe.find_text, recipe.method, recipe.mode) == (
        "find", "red car, not road", "segclip", "best")
    assert recipe.mask_settings == app_settings.mask_settings
    window.mask_steps.operate("grow", 4)
    wait_for_step(qtbot, window, "Grow mask 4 px", 2)
    recipe = window.document.history.top.recipe
    assert (recipe.kind, recipe.operation, recipe.amount_px) == ("mask", "grow", 4)


def test_save_on_close_writes_the_project_a_session_came_from(qtbot, make_window, dialogs,
                                                               tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    project = tmp_path / "photo.paintnoise"
    with qtbot.waitSignal(window.projects.saved, timeout=30_000):
        window.projects.save_to(project)
    window.session.apply("Brush", (10, 10, 50, 40), mask=np.full((30, 40), 255, np.uint8))
    dialogs.unsaved_answers.append(UnsavedChoice.SAVE)
    window.close()
    assert dialogs.unsaved_asked == ["photo.png"] and dialogs.save_suggestions == []
    reopened, _ = read_project(project)
    assert reopened.history.names == ["Brush"] and reopened.mask.any()


def test_a_running_window_s_session_is_never_offered_to_another(qtbot, make_window, dialogs,
                                                                tmp_path):
    window = _window_with_photo(qtbot, make_window, tmp_path)
    _edit(window)
    window.autosave.write_now().result()
    assert window.autosave.slot.snapshot.is_file()
    second = make_window()
    dialogs.recovery_answers.append("recover")
    assert second.projects.offer_recovery() == []
    assert dialogs.recovery_offers == []  # nothing to ask about
    window.close()  # discarded on close: its snapshot goes with it
    assert not any(window.autosave.folder.glob("*.paintnoise"))
