from __future__ import annotations

import numpy as np

from paintnoise_desktop.core.history import Edit, History


def edit(name: str, nbytes: int = 100, pixels: bool = True) -> Edit:
    """A step of `nbytes`: a pixel edit, or with pixels=False one that changes the mask only."""
    patch = np.zeros((1, nbytes), np.uint8)
    if pixels:
        return Edit(name, (0, 0, nbytes, 1), rgb_after=patch)
    return Edit(name, (0, 0, nbytes, 1), mask_before=patch)


def test_edit_counts_the_bytes_of_its_patches():
    patch = np.zeros((4, 5, 3), np.uint8)
    mask = np.zeros((4, 5), np.uint8)
    assert Edit("x", (0, 0, 5, 4), patch, patch.copy(), mask, None).nbytes == 2 * 60 + 20
    assert Edit("y", (0, 0, 1, 1)).nbytes == 0


def test_undo_and_redo_walk_the_list():
    history = History()
    assert history.undo() is None and history.redo() is None
    a, b = edit("a"), edit("b")
    history.push(a)
    history.push(b)
    assert history.names == ["a", "b"] and history.index == 2
    assert history.undo() is b and history.undo() is a and history.undo() is None
    assert not history.can_undo and history.can_redo and history.index == 0
    assert history.redo() is a and history.index == 1
    assert history.nbytes == 200


def test_push_after_undo_drops_the_redo_tail():
    history = History()
    for name in "abc":
        history.push(edit(name))
    history.undo()
    history.undo()
    history.push(edit("d"))
    assert history.names == ["a", "d"] and not history.can_redo
    assert history.nbytes == 200


def test_the_budget_drops_the_oldest_but_keeps_the_newest():
    history = History(budget_bytes=250)
    for name in "abcd":
        history.push(edit(name))
    assert history.names == ["c", "d"] and history.index == 2 and history.nbytes == 200
    history.push(edit("huge", 1000))
    assert history.names == ["huge"] and history.nbytes == 1000
    assert history.undo().name == "huge" and history.undo() is None


def test_clean_state_follows_undo_and_redo():
    history = History()
    assert history.is_clean
    history.push(edit("a"))
    assert not history.is_clean
    history.mark_clean()
    history.push(edit("b"))
    assert not history.is_clean
    history.undo()
    assert history.is_clean
    history.undo()
    assert not history.is_clean
    history.redo()
    assert history.is_clean


def test_a_clean_state_that_was_overwritten_or_forgotten_never_comes_back():
    history = History()
    history.push(edit("a"))
    history.push(edit("b"))
    history.mark_clean()
    history.undo()
    history.push(edit("c"))  # the saved state (a, b) is gone
    history.undo()
    history.undo()
    assert not any(_states_clean(history))

    budgeted = History(budget_bytes=250)
    budgeted.mark_clean()  # the empty photo as opened
    budgeted.push(edit("a"))
    budgeted.push(edit("b"))
    budgeted.push(edit("c"))  # "a" is forgotten, so the opened state can't be reached
    assert not any(_states_clean(budgeted))
    budgeted.mark_clean()
    assert budgeted.is_clean


def test_forgetting_old_steps_keeps_a_later_clean_state():
    history = History(budget_bytes=250)
    history.push(edit("a"))
    history.push(edit("b"))
    history.mark_clean()
    history.push(edit("c"))
    history.undo()
    assert history.is_clean and history.names == ["b", "c"]


def _states_clean(history: History) -> list[bool]:
    """Whether each reachable state is clean (leaves the history at its last state)."""
    while history.undo() is not None:
        pass
    states = [history.is_clean]
    while history.redo() is not None:
        states.append(history.is_clean)
    return states


def test_mask_steps_never_make_the_pixels_unsaved():
    history = History()
    history.push(edit("Brush", pixels=False))
    history.push(edit("Find", pixels=False))
    assert history.is_clean
    history.push(edit("Remove"))
    assert not history.is_clean
    history.push(edit("Grow mask", pixels=False))
    history.undo()
    history.undo()
    assert history.is_clean and history.index == 2
    history.undo()
    assert history.is_clean and history.top.name == "Brush"
    assert history.undo().name == "Brush" and history.top is None


def test_a_mask_step_after_undoing_mask_steps_keeps_the_saved_pixels():
    history = History()
    history.push(edit("Remove"))
    history.push(edit("Brush", pixels=False))
    history.mark_clean()
    history.undo()
    history.push(edit("Invert mask", pixels=False))  # the saved state goes, its pixels stay
    assert history.is_clean
    history.undo()
    history.push(edit("Remove again"))
    assert not history.is_clean
    history.undo()
    assert history.is_clean


def test_forgetting_a_mask_step_keeps_the_opened_state_clean():
    history = History(budget_bytes=250)
    history.push(edit("Brush", pixels=False))
    history.push(edit("Grow", pixels=False))
    history.push(edit("Feather", pixels=False))
    assert history.names == ["Grow", "Feather"] and history.is_clean
    history.push(edit("Remove"))
    history.undo()
    assert history.is_clean


# -- revision and merge keys -------------------------------------------------------------------


def test_every_push_undo_and_redo_makes_a_new_revision():
    history = History()
    seen = [history.revision]
    history.push(edit("a"))
    seen.append(history.revision)
    history.undo()
    seen.append(history.revision)  # back at zero steps, yet not the state a job saw before
    history.redo()
    seen.append(history.revision)
    history.push(edit("b"), merge_key="k")
    seen.append(history.revision)
    history.push(edit("c"), merge_key="k")  # even a merge is a new state
    seen.append(history.revision)
    history.mark_clean()  # saving changes no state
    assert history.revision == seen[-1]
    assert len(set(seen)) == len(seen)
    assert History().revision not in seen  # no two histories share a revision


def test_pushes_with_the_same_merge_key_become_one_step():
    history = History()
    history.push(edit("Brush"))
    first = Edit("Feather 2", (0, 0, 2, 1), mask_before=np.array([[1, 2]], np.uint8),
                 mask_after=np.array([[3, 4]], np.uint8))
    then = Edit("Feather 5", (0, 0, 2, 1), mask_before=np.array([[3, 4]], np.uint8),
                mask_after=np.array([[5, 6]], np.uint8))
    history.push(first, merge_key="feather")
    top = history.push(then, merge_key="feather")
    assert history.names == ["Brush", "Feather 5"] and history.index == 2
    assert top is history.top and top.box == (0, 0, 2, 1)
    assert top.mask_before.tolist() == [[1, 2]] and top.mask_after.tolist() == [[5, 6]]
    assert history.nbytes == 100 + 4


def test_a_move_or_another_key_between_two_pushes_keeps_them_apart():
    history = History()
    history.push(edit("a"), merge_key="k")
    history.push(edit("b"), merge_key="other")
    history.push(edit("c"), merge_key="k")
    assert history.names == ["a", "b", "c"]
    history.undo()
    history.redo()
    history.push(edit("d"), merge_key="k")  # "c" was redone in between
    assert history.names == ["a", "b", "c", "d"]
    history.push(edit("e"))
    history.push(edit("f"))  # no key: never merged
    assert history.names[-2:] == ["e", "f"]


def test_merging_after_a_save_of_the_first_step_makes_the_photo_unsaved():
    history = History()
    history.push(edit("Replace"), merge_key="variants")
    history.mark_clean()
    history.push(edit("Replace"), merge_key="variants")  # another variant in its place
    assert not history.is_clean
    masks_only = History()
    masks_only.push(edit("Grow", pixels=False), merge_key="grow")
    masks_only.mark_clean()
    masks_only.push(edit("Grow", pixels=False), merge_key="grow")
    assert masks_only.is_clean  # the mask is not saved with the photo
