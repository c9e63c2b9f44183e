"""A one-line view of the job queue: what runs, "Cancelling…", and what waits after it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .job_queue import JobQueue


def queue_text(queue: JobQueue) -> str:
    """"Remove · 1 queued: Find", "Find: Cancelling… · 2 queued: Remove, Find", or ""."""
    running = queue.running
    parts = []
    if running is not None:
        parts.append(f"{running.title}: Cancelling\u2026" if running.cancelling
                     else running.title)
    if queue.queued:
        titles = ", ".join(job.title for job in queue.queued)
        parts.append(f"{len(queue.queued)} queued: {titles}")
    return " \u00b7 ".join(parts)


class QueueLabel(QLabel):
    def __init__(self, queue: JobQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueLabel")
        self.setToolTip("The running job and the ones waiting for it "
                        "(Esc cancels the running one, Shift+Esc all of them)")
        self._queue = queue
        queue.changed.connect(self._show)
        self._show()

    def _show(self) -> None:
        self.setText(queue_text(self._queue))
