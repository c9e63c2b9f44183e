"""How Replace paints: inpainter, steps, guidance, strength, negative prompt, seed and variants.

One collapsible panel, every control bound to its setting in AppSettings, so a change made
here, in the Settings dialog or by code shows everywhere at once and is remembered. The dock
around it carries the title; its own header sums up what Replace will use, so it says
something even while folded. Opening it never widens the column of panels (the fields take
the column's width) nor makes the window taller (the form scrolls when the column is short),
so the photo keeps its zoom and the prompt bar its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine.inpaint.inpainter import CLIPAWAY
from ..engine.models.catalog import known_spec
from ..engine.models.needs import REMOVERS
from ..engine.models.registry import install_status
from ..engine.settings import EngineSettings
from .app_settings import (
    AUTOMATIC_INPAINTER,
    AUTOMATIC_INPAINTER_LABEL,
    MAX_SEED,
    AppSettings,
)
from .properties import bind

# Inpainters that need a model are those whose value is a model id; the list shows whether
# each is installed.
INPAINTER_CHOICES = (("opencv-telea", "OpenCV Telea (no model)"),
                     ("opencv-ns", "OpenCV Navier-Stokes (no model)"),
                     ("sd2-inpainting", "Stable Diffusion 2 inpainting"),
                     ("sd15-inpainting", "Stable Diffusion 1.5 inpainting"))
GUIDANCE_CHOICES = (("plain", "Stable Diffusion"), ("clip", "CLIP-guided"))
NARROW_CHOICE = 12  # characters a choice shows in its closed combo
NO_DIFFUSION_INPAINTERS = ("opencv-telea", "opencv-ns")  # steps, guidance ... do not apply
DIFFUSION_ONLY_HINT = "Steps, guidance, strength and the negative prompt apply to Stable " \
                      "Diffusion only."


REMOVER_LABELS = {AUTOMATIC_INPAINTER: "Automatic (LaMa when installed)",
                  CLIPAWAY: "CLIPAway (Stable Diffusion 1.5, guided)", **dict(INPAINTER_CHOICES)}


def inpainter_choices(engine_settings: EngineSettings) -> list[tuple[str, str]]:
    """The inpainters, "Automatic" first, each model marked installed or not."""
    choices = [(AUTOMATIC_INPAINTER, AUTOMATIC_INPAINTER_LABEL)]
    choices += [(value, _with_status(value, label, engine_settings))
                for value, label in INPAINTER_CHOICES]
    return choices


def remover_choices(engine_settings: EngineSettings) -> list[tuple[str, str]]:
    """What can remove ("Remove with"), "Automatic" first, each model marked installed or not."""
    choices = []
    for value in REMOVERS:
        spec = known_spec(value)
        label = REMOVER_LABELS.get(value) or (spec.name if spec else value)
        choices.append((value, _with_status(value, label, engine_settings)))
    return choices


def _with_status(value: str, label: str, engine_settings: EngineSettings) -> str:
    if known_spec(value) is None:
        return label
    return f"{label} ({install_status(value, engine_settings).split(' (')[0]})"


def choices_combo(name: str, choices: Sequence[tuple[str, str]]) -> QComboBox:
    combo = QComboBox(objectName=name)
    for value, label in choices:
        combo.addItem(label, value)
    return combo


def uses_diffusion(inpainter: str) -> bool:
    return inpainter not in NO_DIFFUSION_INPAINTERS


class ScrollsPastFields(QObject):
    """The mouse wheel over a field the user is not editing scrolls the panel instead of
    changing the field's value (a strength turned from 1.0 to 0.65 by scrolling past it)."""

    def __init__(self, scroll: QScrollArea, parent: QObject) -> None:
        super().__init__(parent)
        self.scroll = scroll

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Wheel and not watched.hasFocus():
            QApplication.sendEvent(self.scroll.verticalScrollBar(), event)
            return True
        return False


class GenerationPanel(QWidget):
    """A header that opens and closes the panel (and sums it up), over a form of the
    generation settings."""

    def __init__(self, settings: AppSettings, engine_settings: EngineSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationPanel")
        self.settings = settings
        self.toggle = QToolButton(objectName="generationToggle", checkable=True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toggle.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.toggle.setToolTip("Show or hide how Replace paints")
        self.body = QWidget(objectName="generationBody")

        self.inpainter_combo = choices_combo("generationInpainterCombo",
                                             inpainter_choices(engine_settings or EngineSettings()))
        self.inpainter_combo.setToolTip("What paints the masked region")
        # As narrow as a short choice (a long one shows whole in the open list), and as wide
        # as the column lets it be.
        self.inpainter_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.inpainter_combo.setMinimumContentsLength(NARROW_CHOICE)
        self.inpainter_combo.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.remover_combo = choices_combo("generationRemoverCombo",
                                           remover_choices(engine_settings or EngineSettings()))
        self.remover_combo.setToolTip("What removes the masked region when the replacement is "
                                      "empty")
        self.remover_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.remover_combo.setMinimumContentsLength(NARROW_CHOICE)
        self.remover_combo.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.steps_spin = QSpinBox(objectName="generationStepsSpin")
        self.steps_spin.setToolTip("Sampling steps: more is slower and often finer")
        self.guidance_spin = QDoubleSpinBox(objectName="generationGuidanceSpin", decimals=1,
                                            singleStep=0.5)
        self.guidance_spin.setToolTip("How closely the painting follows the words")
        self.strength_spin = QDoubleSpinBox(objectName="generationStrengthSpin", decimals=2,
                                            singleStep=0.05)
        self.strength_spin.setToolTip("1 repaints from scratch; less keeps more of what was there")
        self.negative_edit = QLineEdit(objectName="generationNegativeEdit",
                                       placeholderText="e.g. blurry, text")
        self.negative_edit.setToolTip("What the painting should not look like")
        self.negative_edit.setClearButtonEnabled(True)
        self.seed_edit = QLineEdit(objectName="generationSeedEdit", placeholderText="random")
        self.seed_edit.setValidator(QIntValidator(0, MAX_SEED, self.seed_edit))
        self.seed_edit.setToolTip("The first variant's seed (the others count up from it); "
                                  "empty: a new random seed each time")
        self.variants_spin = QSpinBox(objectName="generationVariantsSpin", prefix="\u00d7")
        self.variants_spin.setToolTip("How many versions to paint, to compare and choose from")
        self.verify_check = QCheckBox("Check that removals worked",
                                      objectName="generationVerifyCheck")
        self.verify_check.setToolTip("After removing something found by words, find it again "
                                     "there; while it is still found, repaint with a larger mask")
        self.verify_retries_spin = QSpinBox(objectName="generationVerifyRetriesSpin",
                                            suffix=" more times")
        self.verify_retries_spin.setToolTip("How many more times a checked removal may repaint")
        self.mode_combo = choices_combo("generationModeCombo", GUIDANCE_CHOICES)
        self.mode_combo.setToolTip("CLIP-guided steers Stable Diffusion toward the words inside "
                                   "the mask and keeps the background outside it: for "
                                   "replacements that must follow the words closely (slower)")
        self.weight_spins = {}
        for name, tip in (("clip", "How strongly the painting is pulled toward the words"),
                          ("l2", "How strongly the background keeps its colours"),
                          ("lpips", "How strongly the background keeps its look (LPIPS)")):
            spin = QDoubleSpinBox(objectName=f"generation{name.upper()}WeightSpin", decimals=0,
                                  singleStep=100.0)
            spin.setToolTip(f"{tip}; the study found 1000 best")
            self.weight_spins[f"{name}_weight"] = spin
        self.guide_every_spin = QSpinBox(objectName="generationGuideEverySpin",
                                         prefix="every ", suffix=" steps")
        self.guide_every_spin.setToolTip("Guide on every k-th sampling step: fewer is faster")
        self.reset_button = QPushButton("Defaults", objectName="generationResetButton")
        self.reset_button.setToolTip("Put every generation setting back to its default")
        self.reset_button.clicked.connect(settings.reset_generation)
        self.hint = QLabel(DIFFUSION_ONLY_HINT, objectName="generationHint", wordWrap=True)

        form = self.form = QFormLayout(self.body)
        form.setContentsMargins(8, 4, 8, 4)
        form.addRow("Inpainter", self.inpainter_combo)
        form.addRow("Mode", self.mode_combo)
        for label, name in (("CLIP weight", "clip_weight"), ("L2 weight", "l2_weight"),
                            ("LPIPS weight", "lpips_weight")):
            form.addRow(label, self.weight_spins[name])
        form.addRow("Guide", self.guide_every_spin)
        form.addRow("Remove with", self.remover_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Guidance", self.guidance_spin)
        form.addRow("Strength", self.strength_spin)
        form.addRow("Negative prompt", self.negative_edit)
        form.addRow("Seed", self.seed_edit)
        form.addRow("Variants", self.variants_spin)
        form.addRow(self.verify_check)  # across both columns: the label column stays narrow
        form.addRow("Repaint at most", self.verify_retries_spin)
        form.addRow("", self.hint)
        form.addRow("", self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toggle)
        self.scroll = QScrollArea(objectName="generationScroll", widgetResizable=True)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.body)
        layout.addWidget(self.scroll)
        self._wheel = ScrollsPastFields(self.scroll, self)
        for field in [*self.body.findChildren(QAbstractSpinBox),
                      *self.body.findChildren(QComboBox)]:
            field.setFocusPolicy(Qt.StrongFocus)
            field.installEventFilter(self._wheel)

        for name, widget in (("inpainter", self.inpainter_combo),
                             ("remover", self.remover_combo), ("steps", self.steps_spin),
                             ("guidance", self.guidance_spin), ("strength", self.strength_spin),
                             ("negative_prompt", self.negative_edit), ("seed", self.seed_edit),
                             ("variants", self.variants_spin),
                             ("verify_removal", self.verify_check),
                             ("verify_retries", self.verify_retries_spin),
                             ("guidance_mode", self.mode_combo),
                             ("guide_every", self.guide_every_spin), *self.weight_spins.items()):
            bind(settings, name, widget)
        settings.guidance_mode_changed.connect(self._show_guidance_fields)
        self._show_guidance_fields()
        settings.verify_removal_changed.connect(self.verify_retries_spin.setEnabled)
        self.verify_retries_spin.setEnabled(settings.verify_removal)
        settings.inpainter_changed.connect(self._show_inpainter_fields)
        for changed in (settings.inpainter_changed, settings.variants_changed,
                        settings.seed_changed, settings.guidance_mode_changed):
            changed.connect(self._show_summary)
        self.toggle.toggled.connect(self._open)
        self.toggle.setChecked(settings.generation_panel_open)
        self._open(self.toggle.isChecked())
        self._show_inpainter_fields()
        self._show_summary()

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, on: bool) -> None:
        self.toggle.setChecked(on)

    def set_engine_settings(self, engine_settings: EngineSettings) -> None:
        """Show each model's install status for these engine settings."""
        for combo, choices in ((self.inpainter_combo, inpainter_choices(engine_settings)),
                               (self.remover_combo, remover_choices(engine_settings))):
            for index, (value, label) in enumerate(choices):
                found = combo.findData(value)
                if found >= 0:
                    combo.setItemText(found, label)
                else:
                    combo.insertItem(index, label, value)

    def _open(self, on: bool) -> None:
        self.scroll.setVisible(on)
        self.toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.settings.generation_panel_open = on

    def summary(self) -> str:
        """The inpainter, its mode when CLIP-guided, the number of variants and the seed, e.g.
        "Automatic · ×2"."""
        parts = [self.inpainter_combo.currentText().split(" (")[0],
                 f"\u00d7{self.settings.variants}"]
        if self.settings.guidance_mode == "clip":
            parts.insert(1, "CLIP-guided")
        if self.settings.seed is not None:
            parts.append(f"seed {self.settings.seed}")
        return " \u00b7 ".join(parts)

    def _show_summary(self) -> None:
        self.toggle.setText(self.summary())

    def _show_guidance_fields(self) -> None:
        """The weights and the interval only where they apply: in CLIP-guided mode."""
        for widget in (*self.weight_spins.values(), self.guide_every_spin):
            self.form.setRowVisible(widget, self.settings.guidance_mode == "clip")

    def _show_inpainter_fields(self) -> None:
        diffusion = uses_diffusion(self.settings.inpainter)
        for widget in (self.steps_spin, self.guidance_spin, self.strength_spin,
                       self.negative_edit):
            widget.setEnabled(diffusion)
        self.hint.setVisible(not diffusion)
