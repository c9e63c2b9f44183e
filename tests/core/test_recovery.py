"""Autosave timing (with a fake clock) and the recovery folder's locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from paintnoise_desktop.core.recovery import (
    RECOVERY_DIR_ENV,
    AutosaveSchedule,
    RecoverySlot,
    orphans,
    recovery_dir,
)


def _after_a_first_write() -> AutosaveSchedule:
    schedule = AutosaveSchedule(debounce_s=3, interval_s=60)
    schedule.changed(0)
    schedule.taken()
    return schedule


def test_the_first_unsaved_change_is_written_at_once_and_again_after_a_save():
    schedule = AutosaveSchedule(debounce_s=3, interval_s=60)
    assert schedule.due_at() is None and not schedule.is_due(100)
    schedule.changed(10)
    assert schedule.is_due(10)  # a crash a second later still finds a snapshot
    schedule.taken()
    schedule.changed(11)
    assert schedule.due_at() == 14  # from then on, after the changes stop
    schedule.cleared()  # saved: the snapshot is gone
    assert not schedule.pending
    schedule.changed(20)
    assert schedule.is_due(20)


def test_a_write_waits_for_the_changes_to_stop():
    schedule = _after_a_first_write()
    assert schedule.due_at() is None and not schedule.is_due(100)
    schedule.changed(10)
    assert schedule.due_at() == 13
    schedule.changed(12)  # another change pushes the write back
    assert not schedule.is_due(14.9) and schedule.is_due(15)
    schedule.taken()
    assert not schedule.pending and schedule.due_at() is None


def test_changes_that_never_stop_are_written_every_interval():
    schedule = AutosaveSchedule(debounce_s=3, interval_s=60)
    written = []
    for tick in range(200):  # a change every second for 200 s
        now = float(tick)
        schedule.changed(now)
        if schedule.is_due(now):
            written.append(now)
            schedule.taken()
    # at once, then: the first unwritten change was 1 s after each write
    assert written == [0.0, 61.0, 122.0, 183.0]


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(RECOVERY_DIR_ENV, str(tmp_path / "r"))
    assert recovery_dir() == tmp_path / "r"
    monkeypatch.delenv(RECOVERY_DIR_ENV)
    assert recovery_dir().name == "recovery"


def test_a_live_session_is_never_an_orphan_and_a_clean_close_leaves_nothing(tmp_path):
    slot = RecoverySlot(tmp_path)
    slot.snapshot.write_bytes(b"snapshot")
    assert orphans(tmp_path) == []  # held by this process
    slot.close()
    assert list(tmp_path.iterdir()) == []


def _holder(folder) -> subprocess.Popen:
    """Another process that claims a slot, writes a snapshot and a half-written one, and waits."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from paintnoise_desktop.core.recovery import RecoverySlot
        slot = RecoverySlot(Path({str(folder)!r}))
        slot.snapshot.write_bytes(b"x")
        (slot.folder / f".{{slot.id}}.paintnoise.abcd1234.tmp").write_bytes(b"half")
        print("ready", flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is POSIX")
def test_a_killed_session_is_an_orphan_a_running_one_is_not(tmp_path):
    live = _holder(tmp_path)
    dead = _holder(tmp_path)
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait()
        found = orphans(tmp_path)
        assert len(found) == 1
        assert not list(tmp_path.glob(f".{found[0].snapshot.name}.*.tmp"))  # its leftovers go
        assert len(list(tmp_path.glob("*.tmp"))) == 1  # the live one's stays
        slot = RecoverySlot(tmp_path)
        slot.adopt(found[0])
        assert slot.snapshot.read_bytes() == b"x"
        assert orphans(tmp_path) == []
        slot.close()
    finally:
        live.kill()
        live.wait()
