"""The Select tool: click on the object and Segment Anything masks it.

Left click puts a point on the object, Alt+click or right click one off it, a drag draws
a box around it. Each gesture adds to the current selection (its points and box) and
asks for a click Find with all of them (EditJobs.find_points): the first one on a photo
waits for the image embedding (progress shows, the window goes on), later ones are
answered from it in milliseconds; a click made while an older one still waits in the
queue stands for it. The found mask replaces the mask, or, when the selection was begun
with Shift held, is added to the mask as it was when its first Find started (so an object
clicked before and still being answered stays); each answer is one undo step. Tab shows SAM's other ways to take the object in place of the one shown
(in the same step), Esc ends the selection (the mask stays). Anything else changing the
mask (the brush, undo, another photo) ends it too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen

from ..core.box import Box
from .edit_jobs import CLICKED, Clicks, EditJobs
from .session import EditingSession

DRAG_PX = 5  # a press that moves further than this (widget px) draws a box
MARK_RADIUS = 5.0
POSITIVE = QColor(40, 200, 70)
NEGATIVE = QColor(230, 40, 40)
#: The keys and gestures of the Select tool, for the shortcuts sheet.
SELECT_KEYS = (
    ("Click, Alt+click or right click", "Select: a point on / off the object"),
    ("Drag", "Select: a box around the object"),
    ("Shift+click", "Select: a new object, added to the mask"),
    ("Tab", "Select: the next way to take the clicked object"),
    ("Esc", "Select: end the selection (the mask stays; a running click is cancelled)"),
)


@dataclass(frozen=True)
class Selection:
    """What the user has clicked on one object so far, in photo pixels."""

    points: tuple[tuple[float, float, bool], ...] = ()
    box: Box | None = None
    clicks: Clicks = field(default_factory=Clicks)  # adds to the mask when begun with Shift

    def describe(self) -> str:
        """'2 points and a box', for the history's name."""
        count = len(self.points)
        parts = [f"{count} point{'s' if count != 1 else ''}"] if count else []
        return " and ".join([*parts, *(["a box"] if self.box is not None else [])])


class SelectTool(QObject):
    def __init__(self, canvas, session: EditingSession, jobs: EditJobs,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._canvas = canvas
        self._session = session
        self._jobs = jobs
        self.selection = Selection()
        self._press: tuple[QPointF, QPointF] | None = None  # widget and photo point pressed
        self._drag: QPointF | None = None  # the photo point dragged to
        self._answers = itertools.count(1)
        self._merge_key = ""  # the step of the last answer, which Tab's choices join
        self._own_change = False
        canvas.set_select_tool(self)
        session.outdated.connect(self._outdated)
        session.documentChanged.connect(lambda _document: self.clear())

    # -- the selection ----------------------------------------------------------------------

    def add_point(self, x: float, y: float, positive: bool = True, new: bool = False) -> None:
        """A point on (or off) the object; `new`: begin a new object added to the mask."""
        self._extend(lambda selection: replace(
            selection, points=(*selection.points, (x, y, positive))), new)

    def set_box(self, box: Box, new: bool = False) -> None:
        self._extend(lambda selection: replace(selection, box=box), new)

    def clear(self) -> None:
        """End the selection; the mask stays as it is."""
        self.selection = Selection()
        self._press = self._drag = None
        self._merge_key = ""
        self._canvas.update()

    def next_alternative(self) -> None:
        """Make the mask from SAM's next way to take the clicked object (same undo step)."""
        found = self._session.found
        if found is None or found.text != CLICKED or len(found.candidates) < 2:
            return
        current = found.chosen[0] if found.chosen else 0
        self._own_change = True
        try:
            self._jobs.choose_candidates([(current + 1) % len(found.candidates)],
                                         merge_key=self._merge_key)
        finally:
            self._own_change = False

    def _extend(self, change, new: bool) -> None:
        document = self._session.document
        if document is None:
            return
        if new or not (self.selection.points or self.selection.box):
            self.selection = Selection(clicks=Clicks(adds=new))
        self.selection = change(self.selection)
        self._merge_key = f"click {next(self._answers)}"
        selection = self.selection
        verb = "Add click" if selection.clicks.adds else "Click"
        self._jobs.find_points(selection.points, selection.box, selection.clicks,
                               f"{verb}: {selection.describe()}", self._merge_key)
        self._canvas.update()

    def _outdated(self, _reason: str) -> None:
        if not self._own_change:
            self.clear()

    # -- what the canvas hands over ----------------------------------------------------------

    def press(self, event: QMouseEvent, point: QPointF) -> None:
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self._press, self._drag = (event.position(), point), None

    def move(self, event: QMouseEvent, point: QPointF) -> None:
        if self._press is None:
            return
        moved = event.position() - self._press[0]
        if self._drag is not None or max(abs(moved.x()), abs(moved.y())) > DRAG_PX:
            self._drag = point
            self._canvas.update()

    def release(self, event: QMouseEvent, point: QPointF) -> None:
        if self._press is None:
            return
        start, self._press = self._press[1], None
        new = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self._drag is not None:
            self._drag = None
            x0, x1 = sorted((start.x(), point.x()))
            y0, y1 = sorted((start.y(), point.y()))
            self.set_box((round(x0), round(y0), round(x1), round(y1)), new)
        else:
            negative = (event.button() == Qt.MouseButton.RightButton
                        or bool(event.modifiers() & Qt.KeyboardModifier.AltModifier))
            self.add_point(start.x(), start.y(), not negative, new)

    def claims(self, key: int) -> bool:
        """Whether `key` is the tool's: Tab while a click's answer has alternatives (else it
        moves the focus as usual), Esc while there is a selection."""
        found = self._session.found
        alternatives = found is not None and found.text == CLICKED and len(found.candidates) > 1
        selecting = bool(self.selection.points or self.selection.box or self._press)
        return ((key == Qt.Key.Key_Tab and alternatives)
                or (key == Qt.Key.Key_Escape and selecting))

    def key(self, key: int) -> None:
        if key == Qt.Key.Key_Tab:
            self.next_alternative()
        elif key == Qt.Key.Key_Escape:
            if self._jobs.running:
                self._jobs.cancel()  # e.g. the first click, still waiting for the embedding
            self.clear()

    def paint(self, painter: QPainter) -> None:
        """The points (green on, red off the object), the box, and a box being dragged."""
        to_widget = self._canvas.widget_point_of
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        boxes = [self.selection.box] if self.selection.box is not None else []
        if self._press is not None and self._drag is not None:
            start, end = self._press[1], self._drag
            boxes.append((start.x(), start.y(), end.x(), end.y()))
        for x0, y0, x1, y1 in boxes:
            rect = QRectF(to_widget(QPointF(x0, y0)), to_widget(QPointF(x1, y1))).normalized()
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 160), 3))
            painter.drawRect(rect)
            painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            painter.drawRect(rect)
        for x, y, positive in self.selection.points:
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.setBrush(POSITIVE if positive else NEGATIVE)
            painter.drawEllipse(to_widget(QPointF(x, y)), MARK_RADIUS, MARK_RADIUS)
