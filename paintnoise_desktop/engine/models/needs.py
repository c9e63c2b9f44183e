"""Which models an action needs, and which of them are missing: asked once, answered in full.

A Find by words (SegCLIP) needs a Segment Anything model to propose the objects and a CLIP
model to match them to the words; painting what the user typed needs a Stable Diffusion
inpainting model; removing needs none (the offline inpainter has no weights) but uses the
best one installed. The runner asks before a job starts and names every missing model in
one sentence, so the window can offer them all in one dialog and the command line can say
them all at once. No torch here: the window and the command line ask too.
"""

from __future__ import annotations

from ...core.errors import ModelMissingError
from ...core.jobs import FindJob, InpaintJob, Job
from ..inpaint.inpainter import CLIPAWAY, LEARNED_INPAINTERS, OPENCV_METHODS
from ..settings import EngineSettings
from .catalog import known_spec
from .model_choice import (
    CLIP_MODEL_IDS,
    DIFFEDIT_MODEL,
    SAM3_MODEL,
    SAM_MODEL_IDS,
    preferred_model,
    proposal_model,
)
from .registry import MODEL_MANAGER_MENU, find_model, models_dir

#: The inpainters "auto" paints with, best first; the first is the one offered when none is.
DIFFUSION_DEFAULTS = ("sd2-inpainting", "sd15-inpainting")
OFFLINE_INPAINTER = "opencv-telea"
#: Asks for the best inpainter installed. It is chosen on the engine thread: looking through
#: the models folder and the Hugging Face cache takes too long for the window.
AUTOMATIC_INPAINTER = "auto"
#: Asks for the best way to find things installed (`automatic_finder`).
AUTOMATIC_FINDER = "auto"
LPIPS_MODEL = "lpips-alexnet"
#: What CLIPAway removes with: SD 1.5 inpainting, AlphaCLIP, its MLP, IP-Adapter (in that order).
CLIPAWAY_MODELS = ("sd15-inpainting", "alpha-clip-l14", "clipaway-mlp", "ip-adapter-sd15")
#: The fast learned removers "auto" removes with, best first; the first is the one offered.
LEARNED_REMOVERS = LEARNED_INPAINTERS
#: What the window and `paintnoise edit --removal` offer to remove with.
REMOVERS = (AUTOMATIC_INPAINTER, *LEARNED_REMOVERS, CLIPAWAY, *DIFFUSION_DEFAULTS,
            *OPENCV_METHODS)

#: What a model of each catalogue role does, in the user's words.
PURPOSES = {
    "proposals": "finds the objects in the photo",
    "image-text scoring": "matches the objects to your words",
    "text-to-mask": "makes a mask from your words",
    "inpainting": "paints what you type into the photo",
    "semantic segmentation": "names the parts of the photo",
    "removal guidance": "steers CLIPAway's removal to paint the background",
    "perceptual distance": "keeps the background as it was in CLIP-guided replacement",
    "removal": "removes what is masked, filling it from around it",
}


def purpose(model_id: str) -> str:
    """What the model is for, in plain words ("" for a model the catalogue does not know)."""
    spec = known_spec(model_id)
    return PURPOSES.get(spec.role, spec.role) if spec is not None else ""


def automatic_inpainter(prompt: str, settings: EngineSettings) -> str:
    """What "auto" repaints with: to remove (an empty prompt), the first learned remover
    installed; else, and to paint words, the best Stable Diffusion inpainting model installed
    (removing with the removal prompts).

    With none installed, removing uses the offline inpainter, while painting words names the
    default model, which is then reported missing: "auto" never removes what the user asked
    to replace.
    """
    if not prompt.strip():
        remover = installed_remover(settings)
        if remover is not None:
            return remover
    diffusion = best_diffusion(settings)
    if prompt.strip() or find_model(diffusion, settings) is not None:
        return diffusion
    return OFFLINE_INPAINTER


def best_diffusion(settings: EngineSettings) -> str:
    """The best Stable Diffusion inpainting model installed, else the one offered."""
    return next((model_id for model_id in DIFFUSION_DEFAULTS
                 if find_model(model_id, settings) is not None), DIFFUSION_DEFAULTS[0])


def installed_remover(settings: EngineSettings) -> str | None:
    """The first learned remover installed, or None."""
    return next((model_id for model_id in LEARNED_REMOVERS
                 if find_model(model_id, settings) is not None), None)


def automatic_finder(settings: EngineSettings) -> str:
    """What the "auto" Find method finds with: SAM 3 when it is installed, else SegCLIP."""
    return SAM3_MODEL if find_model(SAM3_MODEL, settings) is not None else "segclip"


def find_needs(method: str, settings: EngineSettings) -> tuple[str, ...]:
    """The models a Find uses: for SegCLIP what proposes the objects (the fast model on the
    CPU when installed, else the best Segment Anything) and the best installed CLIP."""
    if method == AUTOMATIC_FINDER:
        method = automatic_finder(settings)
    if method == "sam3":
        return (SAM3_MODEL,)
    if method == "diffedit":
        return (DIFFEDIT_MODEL,)
    if method == "clipseg":
        return ("clipseg-rd64-refined",)
    if method == "segformer":  # its segments, ranked by CLIP as SegCLIP ranks proposals
        return ("segformer-b5-ade", preferred_model(CLIP_MODEL_IDS, settings))
    if method == "points":  # clicks: Segment Anything alone
        return (preferred_model(SAM_MODEL_IDS, settings),)
    if method != "segclip":
        return ()
    # The device is not known here without torch; a fast model that is installed is used
    # whenever no Segment Anything is, so only an explicit "cpu" decides between two installed.
    return (proposal_model(settings, on_cpu=settings.device == "cpu"),
            preferred_model(CLIP_MODEL_IDS, settings))


def inpaint_needs(inpainter: str, prompt: str, settings: EngineSettings) -> tuple[str, ...]:
    """The model a Replace or Remove uses; none for the offline inpainter."""
    if inpainter == AUTOMATIC_INPAINTER:
        inpainter = automatic_inpainter(prompt, settings)
    if inpainter == CLIPAWAY:  # asked to paint words it is refused before any model is read
        return () if prompt.strip() else CLIPAWAY_MODELS
    if inpainter in OPENCV_METHODS or known_spec(inpainter) is None:
        return ()  # a path to model files is checked by the loader, when it reads them
    return (inpainter,)


def guide_needs(settings: EngineSettings) -> tuple[str, ...]:
    """CLIP-guided replacement scores with the best installed CLIP and LPIPS's AlexNet."""
    return (preferred_model(CLIP_MODEL_IDS, settings), LPIPS_MODEL)


def paint_needs(inpainter: str, prompt: str, guidance_mode: str,
                settings: EngineSettings) -> tuple[str, ...]:
    """The models a Replace or Remove uses, those of CLIP guidance included when it applies."""
    needs = inpaint_needs(inpainter, prompt, settings)
    return needs + guide_needs(settings) if guidance_mode == "clip" and prompt.strip() else needs


def job_needs(job: Job, settings: EngineSettings) -> tuple[str, ...]:
    if isinstance(job, FindJob):
        return find_needs(job.method, settings)
    if isinstance(job, InpaintJob):
        needs = paint_needs(job.inpainter, job.prompt, job.guidance_mode, settings)
        # A verified removal finds again with a Find of FindJob's default method.
        return needs + find_needs(FindJob.method, settings) if job.verifies else needs
    return ()


def not_installed(model_ids: tuple[str, ...], settings: EngineSettings) -> tuple[str, ...]:
    """The ones of `model_ids` that are not installed, in order, each once."""
    return tuple(dict.fromkeys(model_id for model_id in model_ids
                               if find_model(model_id, settings) is None))


CLICK_ACTION = "Masking what was clicked"


def find_action(text: str) -> str:
    return f"Finding \u201c{text.strip()}\u201d"


def inpaint_action(prompt: str) -> str:
    return f"Painting \u201c{prompt.strip()}\u201d" if prompt.strip() else "Removing what is masked"


def action_name(job: Job) -> str:
    """The action as the user asked for it: 'Finding “spoon”', 'Painting “a fork”'."""
    if isinstance(job, FindJob):
        return CLICK_ACTION if job.method == "points" else find_action(job.text)
    return inpaint_action(job.prompt if isinstance(job, InpaintJob) else "")


def model_names(model_ids: tuple[str, ...]) -> str:
    """'A', 'A and B', 'A, B and C', by the names the catalogue gives them."""
    names = [spec.name if (spec := known_spec(model_id)) else model_id for model_id in model_ids]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def download_command(model_ids: tuple[str, ...]) -> str:
    return f"paintnoise models download {' '.join(model_ids)}"


def missing_models_error(actions: tuple[str, ...], missing: tuple[str, ...],
                         settings: EngineSettings, remedy: str = "") -> ModelMissingError:
    """One sentence naming every missing model and how to get them (`remedy` replaces the how)."""
    action = " and ".join([actions[0], *(later[0].lower() + later[1:] for later in actions[1:])])
    need = "needs" if len(actions) == 1 else "need"
    verb, them = ("is", "it") if len(missing) == 1 else ("are", "them")
    remedy = remedy or (f"download {them} from {MODEL_MANAGER_MENU}, or run: "
                        f"{download_command(missing)}")
    return ModelMissingError(
        missing,
        f"{action} {need} {model_names(missing)}, which {verb} not installed: {remedy}.",
        detail=f"looked in {models_dir(settings)}, the model paths in the settings "
               f"and the Hugging Face cache for {', '.join(missing)}")


def require_models(job: Job, settings: EngineSettings) -> None:
    """Raise ModelMissingError naming every model `job` needs that is not installed."""
    missing = not_installed(job_needs(job, settings), settings)
    if missing:
        raise missing_models_error((action_name(job),), missing, settings)
