"""Find and Replace as engine jobs: queue, follow progress, apply the result as one undo step.

Requests go through the job queue: one runs, the others wait in view. A job takes
its input when it starts and records the history's revision; its result is applied
only while the history is still at that revision. An edit meanwhile (brush, mask step,
undo, redo) cancels the running job first (the session's `outdated`), and a result
that still arrives for another state is dropped with a word.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ..core.box import Box, slices
from ..core.history import Edit
from ..core.jobs import (
    GUIDANCE_FIELDS,
    FindJob,
    InpaintJob,
    MaskSettings,
    Progress,
    Result,
    Status,
    Verification,
)
from ..core.recipe import Recipe
from ..engine.find.found import Chosen, full_size_mask
from ..engine.find.ranking import is_weak, parse_query
from ..engine.models.catalog import known_spec
from ..engine.models.needs import (
    AUTOMATIC_INPAINTER,
    CLICK_ACTION,
    LEARNED_REMOVERS,
    installed_remover,
    model_names,
)
from .app_settings import AppSettings
from .engine_bridge import EngineBridge
from .job_queue import JobQueue, JobState, WindowJob
from .mask_steps import MaskStep, MaskSteps
from .session import EditingSession, Found, Replaced

NEED_MASK = "Paint a mask or type what to find first."
CLICKED = "clicked object"  # what a click Find found, as its candidates and steps name it
NOTHING_CHANGED = "Nothing changed."
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress repaints a second
SLIDER_SETTLE_MS = 150  # remake the found mask once a slider has rested this long
RETHRESHOLD = "clipseg threshold"  # the merge key of the steps CLIPSeg's slider makes


def edit_name(find_text: str, replace_text: str) -> str:
    """The history's name for a Replace: what was done, to what ("pole, not person": pole)."""
    find_text = parse_query(find_text)[0]
    if not replace_text:
        return f"Remove: {find_text}" if find_text else "Remove"
    if find_text:
        return f"Replace {find_text} with: {replace_text}"
    return f"Replace with: {replace_text}"


def checked_outcome(verification: Verification) -> str:
    """A checked removal's outcome in a word or two, for its history step."""
    if not verification.gone:
        return "still there"
    return "gone" if verification.found_before else "not found before"


@dataclass(eq=False)
class Clicks:
    """One object being clicked on. Its Finds replace the mask, or when it `adds`, are added
    to the mask as it was when the first of them started (`base`, taken then): a Find still
    running for the object clicked before is part of it."""

    adds: bool = False
    base: np.ndarray | None = None


class _Request:
    """What one queued Find or Replace was asked to do."""

    def __init__(self, kind: str, find_text: str, replace_text: str | None,
                 mode: str = "best") -> None:
        self.kind = kind  # "find" or "inpaint"
        self.find_text = find_text
        self.replace_text = replace_text  # None: a Find only; "" a removal
        self.mode = mode
        self.recipe: Recipe | None = None  # a Replace's settings, taken when it starts
        self.add = False  # a Find adding to the mask as it is when the Find starts
        self.base: np.ndarray | None = None  # the mask a Find adds to (None: replaces it)
        self.clicks: Clicks | None = None  # the object a click Find is for
        self.points: tuple[tuple[float, float, bool], ...] = ()  # clicks, for "points"
        self.box: Box | None = None  # a dragged box, for "points"
        self.name = ""  # the history's name for the found mask ("": "Find: <text>")
        self.method = ""  # how to find ("": the find method setting as the job starts)
        self.merge_key = ""  # the found mask's step joins the one on top with this key

    @property
    def title(self) -> str:
        if self.kind == "find" and self.replace_text is None:
            return "Find"
        return "Replace" if self.replace_text else "Remove"


class EditJobs(QObject):
    progress = Signal(object)  # Progress of the running job

    def __init__(self, session: EditingSession, bridge: EngineBridge, settings: AppSettings,
                 mask_steps: MaskSteps, parent: QObject | None = None,
                 offer_remover: Callable[[], bool] | None = None) -> None:
        super().__init__(parent)
        # Asks whether to download the small remover; True: remove now with what is installed.
        self.offer_remover = offer_remover
        self._remover_offered = False
        self._session = session
        self._bridge = bridge
        self._settings = settings
        self._mask_steps = mask_steps
        self.queue = JobQueue(bridge.cancel, self)
        self._requests: dict[WindowJob, _Request] = {}
        self._ending: WindowJob | None = None  # a Find whose mask is still being made
        self._progress_shown_at = 0.0
        self._found_control = ""
        self._found_timer = QTimer(self, singleShot=True, interval=SLIDER_SETTLE_MS)
        self._found_timer.timeout.connect(self._adjust_found_mask)
        self._threshold_timer = QTimer(self, singleShot=True, interval=SLIDER_SETTLE_MS)
        self._threshold_timer.timeout.connect(self.rethreshold)
        settings.clipseg_threshold_changed.connect(lambda _value: self._threshold_timer.start())
        bridge.progress.connect(self._on_progress)
        bridge.finished.connect(self._on_finished)
        session.outdated.connect(self.cancel_stale)
        session.documentChanged.connect(lambda _document: self._forget())
        mask_steps.busyChanged.connect(self._mask_busy_changed)

    # -- requests ---------------------------------------------------------------------------

    def find(self, text: str, add: bool = False) -> WindowJob | None:
        """Find what `text` names; its mask replaces the mask, or with `add` is added to it."""
        if self._session.document is None:
            self._session.message.emit("Open a photo first.")
            return None
        if not text:
            self._session.message.emit("Type what to find, e.g. \"red car\".")
            return None
        request = _Request("find", text, None, self._settings.find_mode)
        if add:
            request.add, request.name = True, f"Add find: {text}"
        return self._queue(request)

    def find_points(self, points: tuple[tuple[float, float, bool], ...], box: Box | None,
                    clicks: Clicks, name: str, merge_key: str) -> WindowJob | None:
        """Mask what clicked `points` and a dragged `box` pick out on the object `clicks`
        (Segment Anything); one undo step named `name`. A Find for the same object still
        waiting in the queue is withdrawn: this one asks for all it asked and more."""
        if self._session.document is None:
            self._session.message.emit("Open a photo first.")
            return None
        for job in [job for job in self.queue.queued
                    if getattr(self._requests.get(job), "clicks", None) is clicks]:
            self._requests.pop(job)
            self.queue.withdraw(job)
        request = _Request("find", CLICKED, None)
        request.points, request.box, request.clicks = points, box, clicks
        request.name, request.merge_key = name, merge_key
        return self._queue(request)

    def replace(self, find_text: str, replace_text: str) -> WindowJob | None:
        """Repaint the mask; with no mask but find text, find first and then repaint."""
        if self._session.document is None:
            self._session.message.emit("Open a photo first.")
            return None
        if self._mask_steps.busy:  # the mask is about to change: repaint through the new one
            self._mask_steps.when_idle(lambda: self.replace(find_text, replace_text))
            self._session.message.emit("Replacing once the mask is ready\u2026")
            return None
        if not (find_text or self.queue.busy or _has_mask(self._session)):
            self._session.message.emit(NEED_MASK)
            return None
        if not replace_text.strip() and not self._go_on_removing():
            return None
        # Without a mask when it starts, it finds one first (see `_start`).
        return self._queue(_Request("inpaint", find_text, replace_text,
                                    self._settings.find_mode))

    def _go_on_removing(self) -> bool:
        """Removing with "auto" and no learned remover installed: offer LaMa first, once per
        window. False when the user chose to download it instead of removing now."""
        if (self.offer_remover is None or self._remover_offered
                or self._settings.remover != AUTOMATIC_INPAINTER
                or installed_remover(self._bridge.settings) is not None):
            return True
        self._remover_offered = True
        if self.offer_remover():
            return True
        self._session.message.emit(f"Remove again once {model_names(LEARNED_REMOVERS[:1])} "
                                   "is downloaded.")
        return False

    def cancel(self, everything: bool = False) -> None:
        """Stop the running job (`everything`: and the queued ones); downloads go on."""
        if everything:
            self.queue.cancel_all()
        else:
            self.queue.cancel_running()
        if self.queue.running is not None:
            self._session.message.emit("Cancelling\u2026")

    @property
    def running(self) -> bool:
        """Whether a Find or Replace runs."""
        return self.queue.busy

    def cancel_stale(self, reason: str) -> None:
        """The photo or its mask is being edited: the running job would apply to an older
        state, so it is cancelled and the edit goes ahead (`reason`: "the mask changed")."""
        job = self.queue.running
        if job is None or job is self._ending:
            return
        self._requests.pop(job, None)
        self.queue.drop_running()
        self._session.set_live_preview(None)
        self._session.message.emit(f"{job.title} cancelled: {reason}.")

    def _forget(self) -> None:
        """Another photo was opened: nothing asked for the old one runs or waits."""
        self._ending = None
        self._requests.clear()
        self.queue.clear()
        self._session.set_live_preview(None)

    def _queue(self, request: _Request, first: bool = False) -> WindowJob:
        """Run `request` when the queue gets to it (`first`: next, the rest of a gesture)."""
        job = WindowJob(request.title, self._start)
        self._requests[job] = request
        if self.queue.busy and not first:
            self._session.message.emit(f"{request.title} queued; it runs after "
                                       f"{self.queue.running.title}.")
        return self.queue.add(job, first=first)

    def _start(self, job: WindowJob) -> int | None:
        request, session = self._requests[job], self._session
        document = session.document
        if document is None:
            return None
        job.revision = document.history.revision
        if request.kind == "inpaint" and not _has_mask(session):
            if not request.find_text:
                session.message.emit(NEED_MASK)
                return None
            request.kind = "find"  # queued before a mask was made: find it first
        if request.kind == "find":
            image = session.copy_for_worker(document.rgb)  # the document may change meanwhile
            if request.add:
                request.base = session.copy_for_worker(document.mask)
            clicks = request.clicks
            if clicks is not None and clicks.adds:
                if clicks.base is None:
                    clicks.base = session.copy_for_worker(document.mask)
                request.base = clicks.base
            if request.points or request.box is not None:
                points, box = request.points, request.box
                session.message.emit(f"{CLICK_ACTION}\u2026")
                return self._bridge.submit(lambda job_id: FindJob(
                    job_id, image=image, text="", method="points", points=points, box=box))
            wanted, excluded = parse_query(request.find_text)
            mode = request.mode
            method = request.method or self._settings.find_method
            threshold = self._settings.clipseg_threshold
            target = request.replace_text or ""  # DiffEdit's target, for a Replace found first
            session.message.emit(f"Finding \u201c{request.find_text}\u201d\u2026")
            return self._bridge.submit(lambda job_id: FindJob(
                job_id, image=image, text=wanted, exclude=excluded, mode=mode, method=method,
                threshold=threshold, replace_text=target))
        image = session.copy_for_worker(document.rgb)
        mask = session.copy_for_worker(document.mask)
        settings = self._settings  # the generation settings as they are when the job starts
        variants, steps = settings.variants, settings.steps
        guidance, strength, seed = settings.guidance, settings.strength, settings.seed
        negative = settings.negative_prompt
        verify, retries = settings.verify_removal, settings.verify_retries
        wanted = parse_query(request.find_text)[0]  # "pole, not person": remove only the pole
        prompt = request.replace_text or ""
        inpainter = settings.inpainter if prompt.strip() else settings.remover  # "Remove with"
        # CLIP guidance steers toward words: a removal has none, so it removes as it would.
        guidance_fields = ({name: getattr(settings, name) for name in GUIDANCE_FIELDS}
                           if prompt.strip() else {})
        what = f"Replacing with \u201c{prompt}\u201d" if prompt else "Removing"
        session.message.emit(f"{what}\u2026")
        request.recipe = _replace_recipe(request.find_text, prompt, negative, inpainter, steps,
                                         guidance, strength, guidance_fields)
        return self._bridge.submit(lambda job_id: InpaintJob(
            job_id, image=image, mask=mask, prompt=prompt, find_text=wanted,
            negative_prompt=negative, inpainter=inpainter, steps=steps, guidance=guidance,
            strength=strength, seed=seed, variants=variants, verify=verify,
            verify_retries=retries, **guidance_fields))

    # -- results ----------------------------------------------------------------------------

    def _on_progress(self, progress: Progress) -> None:
        job = self.queue.running
        if job is None or job.engine_id != progress.job_id or job.cancelling:
            return
        # Each update repaints the bar at once; a job that reports often must not flood it.
        now = time.monotonic()
        if now - self._progress_shown_at >= PROGRESS_INTERVAL_S or progress.fraction >= 1.0:
            self._progress_shown_at = now
            self.progress.emit(progress)
            if progress.preview is not None:
                self._session.set_live_preview(progress.preview)

    def _on_finished(self, result: Result) -> None:
        job = self.queue.running
        if job is None or job.engine_id != result.job_id or job is self._ending:
            return
        request = self._requests.pop(job)
        self._session.set_live_preview(None)
        session = self._session
        if result.status is Status.CANCELLED:
            session.message.emit("Cancelled; the photo is unchanged.")
            self.queue.end(job, JobState.CANCELLED)
        elif session.revision != job.revision:  # changed without cancelling the job
            session.message.emit(f"{job.title} dropped: the photo changed while it ran.")
            self.queue.end(job, JobState.CANCELLED)
        elif not result.ok:
            self.queue.end(job, JobState.FAILED)  # first: the download offer is a modal question
            self._show_failure(result)
        elif request.kind == "find":
            self._apply_find(job, request, result)
        else:
            self._apply_replace(request, result)
            self.queue.end(job, JobState.FINISHED)

    def _show_failure(self, result: Result) -> None:
        """A failed job's message; for models the catalogue knows, the offer to download them."""
        specs = [known_spec(model_id) for model_id in result.missing_models]
        if specs and all(spec is not None for spec in specs):
            names = " and ".join(spec.name for spec in specs)
            verb = "is" if len(specs) == 1 else "are"
            self._session.message.emit(f"{names} {verb} not installed; the photo is unchanged.")
            self._session.modelsMissing.emit(result.missing_models)
        else:
            self._session.error.emit(result.message, result.detail)

    def _apply_find(self, job: WindowJob, request: _Request, result: Result) -> None:
        candidates, session, text = result.candidates, self._session, request.find_text
        if not candidates and request.merge_key == RETHRESHOLD:  # the found mask stays
            session.message.emit(f"Nothing in CLIPSeg's heatmap of \u201c{text}\u201d clears "
                                 f"{self._settings.clipseg_threshold:.2f}; lower the threshold.")
            self.queue.end(job, JobState.FINISHED)
            return
        if not candidates:
            session.set_found(None)
            session.message.emit(
                "Segment Anything found nothing there. Click elsewhere on the object, or paint "
                "the mask with the brush." if text == CLICKED else
                f"Nothing like \u201c{text}\u201d was found. "
                "Try other words, or paint the mask with the brush.")
            self.queue.end(job, JobState.FINISHED)
            return
        scores = [candidate.score for candidate in candidates]
        chosen = Chosen.pick(text, candidates, request.mode).indices
        found = Found(text, candidates, mode=request.mode, base=request.base)
        session.set_found(found)
        self._ending = job  # ends once its mask is made: a queued job starts from it
        self._refine(found, chosen, request.name or f"Find: {text}", request.replace_text,
                     merge_key=request.merge_key)
        if text == CLICKED:
            others = len(candidates) - 1
            message = f"{request.name} (score {scores[0]:.2f})." + (
                f" Tab shows the other {others} way{'s' if others > 1 else ''} to take it."
                if others else "")
        elif is_weak(scores):
            message = f"Nothing matched \u201c{text}\u201d well; showing the closest match."
        elif len(chosen) > 1:
            message = f"\u201c{text}\u201d: {len(chosen)} matches (best score {scores[0]:.2f})."
        else:
            message = f"\u201c{text}\u201d: found (score {scores[0]:.2f})."
        session.message.emit(message)

    def _mask_busy_changed(self, busy: bool) -> None:
        job = self._ending
        if not busy and job is not None:
            self._ending = None
            self.queue.end(job, JobState.FINISHED)

    def _apply_replace(self, request: _Request, result: Result) -> None:
        session, document = self._session, self._session.document
        if not result.variants:
            session.message.emit("The inpainter returned nothing; the photo is unchanged.")
            return
        variant = result.variants[0]
        several = len(result.variants) > 1
        painted = variant.image[slices(variant.box)]
        if not several and np.array_equal(painted, document.rgb[slices(variant.box)]):
            session.message.emit(NOTHING_CHANGED)
            return
        name = edit_name(request.find_text, request.replace_text or "")
        checked = result.verification
        if checked is not None:  # "Remove: spoon (gone)"
            name = f"{name} ({checked_outcome(checked)})"
        merge_key = f"variants of job {result.job_id}"
        recipe = request.recipe and replace(request.recipe, seed=variant.seed,
                                            crop_box=variant.box)
        session.apply(name, variant.box, rgb=painted, merge_key=merge_key, recipe=recipe)
        session.set_replaced(
            Replaced(name, result.variants, 0, merge_key, recipe) if several else None)
        session.overlayWanted.emit(False)  # the mask would hide what was painted
        said = f" {variant.note}." if variant.note else ""
        choose = " Point at the variants to compare, click one to use it." if several else ""
        if checked is not None:
            said += f" {checked.sentence}"
        session.message.emit(f"{name} done.{said}{choose}")

    # -- choices among what the last Find and Replace made ----------------------------------

    def choose_candidates(self, chosen: Sequence[int], merge_key: str = "") -> None:
        """Make the mask from other candidates of the last Find (one undo step; it joins
        the one on top when that has `merge_key`)."""
        found = self._session.found
        if found is None or not chosen:
            return
        self._session.outdated.emit("the mask changed")
        numbers = ", ".join(str(i + 1) for i in chosen)
        label = "Candidate" if len(chosen) == 1 else "Candidates"
        self._refine(found, chosen, f"{label} {numbers}: {found.text}", replace_text=None,
                     merge_key=merge_key)

    def found_settings_changed(self, control: str, settings: MaskSettings) -> None:
        """A found-mask slider moved: remember it, and remake the mask once it rests."""
        self._settings.mask_settings = settings
        if self._found_timer.isActive() and control != self._found_control:
            self._adjust_found_mask()  # another control: the first one's change is its own step
        self._found_control = control
        self._found_timer.start()

    def _adjust_found_mask(self) -> None:
        self._found_timer.stop()
        if not self.adjust_found_mask(self._found_control) and self._session.document:
            self._session.message.emit("Grow and feather apply to the next Find: the found "
                                       "mask was edited since, or there is none.")

    def adjust_found_mask(self, control: str) -> bool:
        """Remake the found mask with the mask settings just changed by `control` (a slider).

        One undo step; further changes by the same control with nothing in between
        are merged into it. False when no found mask is current (nothing is done).
        """
        session = self._session
        if not session.found_mask_is_current:
            return False
        session.outdated.emit("the mask changed")
        found = session.found
        settings = self._settings.mask_settings
        detail = "tight" if settings.tight else (
            f"grow {settings.grow_fraction:.1%}, min {settings.grow_min_px} px, "
            f"feather {settings.feather_px} px")
        self._refine(found, found.chosen, f"Found mask ({detail}): {found.text}", None,
                     merge_key=f"found mask {control}")
        return True

    def rethreshold(self) -> bool:
        """CLIPSeg's threshold moved: cut the last Find's heatmap again (the engine keeps it, so
        no model runs). One undo step however far the slider goes; False when the found mask
        is not CLIPSeg's or was edited since (nothing is done)."""
        self._threshold_timer.stop()
        session, found = self._session, self._session.found
        if (not session.found_mask_is_current or not found.candidates
                or found.candidates[0].source != "clipseg"):
            return False
        request = _Request("find", found.text, None, found.mode)
        request.method, request.base = "clipseg", found.base
        threshold = self._settings.clipseg_threshold
        request.name = f"CLIPSeg threshold {threshold:.2f}: {found.text}"
        request.merge_key = RETHRESHOLD
        self._queue(request)
        return True

    def choose_variant(self, index: int) -> None:
        """Apply another variant of the last Replace in place of the one applied (one step)."""
        session = self._session
        replaced = session.replaced
        if (replaced is None or index == replaced.applied
                or not 0 <= index < len(replaced.variants)):
            return
        session.outdated.emit("another variant was chosen")
        variant = replaced.variants[index]
        recipe = replaced.recipe and replace(replaced.recipe, seed=variant.seed,
                                             crop_box=variant.box)
        session.apply(replaced.name, variant.box, rgb=variant.image[slices(variant.box)],
                      merge_key=replaced.merge_key, recipe=recipe)
        replaced.applied = index  # the strip marked it already
        session.message.emit(f"{replaced.name}: variant {index + 1} (seed {variant.seed}).")

    def _refine(self, found: Found, chosen: Sequence[int], name: str,
                replace_text: str | None, merge_key: str = "") -> None:
        """Make the mask from `chosen` candidates (added to the Find's base mask, if it has
        one) off the GUI thread; one step; maybe Replace."""
        session, chosen = self._session, tuple(chosen)
        document = session.document
        candidates, base = found.candidates, found.base
        width, height, settings = document.width, document.height, self._settings.mask_settings
        # Clicks, like brush strokes, belong to this photo: their steps keep no recipe to replay.
        recipe = None if found.text == CLICKED else Recipe(
            "find", find_text=found.text, method=candidates[0].source, mode=found.mode,
            mask_settings=settings)

        def applied(edit: Edit | None) -> None:
            found.chosen = chosen
            # No step (the mask was this already): the step on top shows this Find's mask, so
            # the sliders and candidates still adjust it.
            edit = edit or document.history.top
            if edit is not None:
                found.steps.add(edit)
            session.set_found(found)
            if replace_text is not None:  # the Replace this Find was for runs next
                self._queue(_Request("inpaint", found.text, replace_text), first=True)

        self._mask_steps.request(
            MaskStep(name, merge_key, then=applied, recipe=recipe),
            lambda: _added_to(base, full_size_mask(candidates, chosen, width, height, settings)))


def _added_to(base: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    return mask if base is None else np.maximum(base, mask)


def _replace_recipe(find_text: str, prompt: str, negative: str, inpainter: str, steps: int,
                    guidance: float, strength: float, guidance_fields: dict) -> Recipe:
    """A Replace's (or removal's) recipe, with the hashes the catalogue lists for its model;
    the seed and box are the applied variant's."""
    spec = known_spec(inpainter)
    files = tuple((file.local, file.sha256) for file in spec.files if file.sha256) if spec else ()
    return Recipe("replace" if prompt else "remove", find_text=find_text, prompt=prompt,
                  negative_prompt=negative, inpainter=inpainter, model_files=files, steps=steps,
                  guidance=guidance, strength=strength, **guidance_fields)


def _has_mask(session: EditingSession) -> bool:
    document = session.document
    return document is not None and bool(np.any(document.mask))
