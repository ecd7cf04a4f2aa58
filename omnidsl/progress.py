"""Progress of long operations: events for listeners, log records, and a status line on stderr.

An operation (``omnidsl prove --servers``, a market round, a compile) runs as a :func:`task`;
its steps are :meth:`Task.stage` blocks (the Groth16 prover's ``stage`` hook is one) and
:meth:`Task.advance` calls.  Library code that does not know whether anyone runs a task around
it calls :func:`step` (the innermost task's stage, or nothing).  Every start and end is

* an :class:`Event` for every :func:`listen`-er (tests capture them; a notebook could draw them),
* a log record of the ``omnidsl.progress`` logger at INFO when a stage or task ends
  (``extra``: ``task``, ``stage``, ``elapsed_s``, and the task's own fields, e.g. ``session``),
* a status line on stderr when :func:`configure` turned the display on (the CLI does on a
  terminal, or with ``--progress``; ``-q`` keeps it off): redrawn in place on a terminal
  (``prove --servers › servers prove (1/3) 12.3 s``), one line per finished stage otherwise.

Nothing is shown unless the display is on, so the library is silent by default.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TextIO

log = logging.getLogger("omnidsl.progress")

#: event kinds: a task starts/ends, a stage starts/ends, a task advances (``advance``)
KINDS = ("start", "stage", "stage-end", "advance", "end")


@dataclass(frozen=True)
class Event:
    """One progress event: ``task`` (its name), ``kind`` (one of :data:`KINDS`), the stage
    (None for task-level events), steps done / total, seconds since the task (for ``stage-end``:
    the stage) started, nesting ``depth`` of the task, and the task's fields."""

    task: str
    kind: str
    stage: str | None
    done: int
    total: int | None
    elapsed_s: float
    depth: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    ok: bool = True  # False: the stage or task ended with an exception

    def text(self) -> str:
        """One human line: ``prove › MSM H (7/8) 0.12 s``."""
        count = f" ({self.done}/{self.total})" if self.total else \
            (f" ({self.done})" if self.done else "")
        what = f" › {self.stage}" if self.stage else ""
        tail = "" if self.ok else " failed"
        return f"{self.task}{what}{count} {self.elapsed_s:.2f} s{tail}"


Listener = Callable[[Event], None]
_listeners: list[Listener] = []
_lock = threading.RLock()
_current: contextvars.ContextVar[tuple[Task, ...]] = contextvars.ContextVar(
    "omnidsl_progress_tasks", default=())


def _emit(ev: Event) -> None:
    with _lock:
        targets = list(_listeners)
    for fn in targets:
        try:
            fn(ev)
        except Exception:  # a broken display must not break the proof
            log.debug("progress listener failed", exc_info=True)


@contextmanager
def listen(fn: Listener) -> Iterator[Listener]:
    """Call ``fn(event)`` for every event while the block runs (any thread)."""
    with _lock:
        _listeners.append(fn)
    try:
        yield fn
    finally:
        with _lock:
            _listeners.remove(fn)


class Task:
    """One running operation (make it with :func:`task`); thread-safe."""

    def __init__(self, name: str, total: int | None = None, depth: int = 0,
                 **fields: Any):
        self.name = name
        self.total = total
        self.depth = depth
        self.fields = fields
        self.done = 0
        self.t0 = time.perf_counter()
        self.stages: list[str] = []  # open stages, outermost first
        self._lock = threading.Lock()

    def _event(self, kind: str, stage: str | None, elapsed: float, ok: bool = True) -> Event:
        return Event(self.name, kind, stage, self.done, self.total, elapsed, self.depth,
                     dict(self.fields), ok)

    def stage(self, name: str) -> AbstractContextManager[object]:
        """A block that is one step of the task (the prover's ``StageHook`` signature); a stage
        inside a stage is shown as ``outer › inner`` and does not count as a step."""
        return self._stage(name)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        with self._lock:
            self.stages.append(name)
            label = " › ".join(self.stages)
            top = len(self.stages) == 1
        _emit(self._event("stage", label, time.perf_counter() - self.t0))
        s0 = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            with self._lock:
                if name in self.stages:
                    self.stages.remove(name)
                if top and ok:
                    self.done += 1
            ev = self._event("stage-end", label, time.perf_counter() - s0, ok)
            _emit(ev)
            log.info("%s", ev.text(), extra={"task": self.name, "stage": label,
                                            "elapsed_s": round(ev.elapsed_s, 4),
                                            **self.fields})

    def advance(self, n: int = 1, note: str | None = None) -> None:
        """``n`` more steps done (``note``: what just finished, shown as the stage)."""
        with self._lock:
            self.done += n
        _emit(self._event("advance", note, time.perf_counter() - self.t0))


class _NoTask(Task):
    """What :func:`current` returns outside any task: stages and steps do nothing."""

    def stage(self, name: str) -> AbstractContextManager[object]:
        return nullcontext()

    def advance(self, n: int = 1, note: str | None = None) -> None:
        return None


NO_TASK = _NoTask("")


def current() -> Task:
    """The innermost running task of this thread/context (a do-nothing task outside one)."""
    tasks = _current.get()
    return tasks[-1] if tasks else NO_TASK


def step(name: str) -> AbstractContextManager[object]:
    """A stage of the innermost running task, or nothing (for library code)."""
    return current().stage(name)


@contextmanager
def task(name: str, total: int | None = None, **fields: Any) -> Iterator[Task]:
    """Run an operation as a task: start and end events, and the task is :func:`current`
    inside the block.  ``fields`` go into every event and log record (e.g. ``session=``)."""
    outer = _current.get()
    t = Task(name, total, len(outer), **fields)
    token = _current.set((*outer, t))
    _emit(t._event("start", None, 0.0))
    ok = False
    try:
        yield t
        ok = True
    finally:
        _current.reset(token)
        ev = t._event("end", None, time.perf_counter() - t.t0, ok)
        _emit(ev)
        log.info("%s", ev.text(), extra={"task": name, "elapsed_s": round(ev.elapsed_s, 4),
                                        **fields})


# ---------------------------------------------------------------- the stderr display
@dataclass
class _Line:
    """One running task's part of the status line: ``task: stage (done/total) [note]``."""

    task: str
    total: int | None
    t0: float
    done: int = 0
    stage: str = ""
    note: str = ""

    def text(self) -> str:
        count = f" ({self.done}/{self.total})" if self.total else ""
        stage = f": {self.stage}" if self.stage else ""
        note = f" [{self.note}]" if self.note else ""
        return f"{self.task}{stage}{count}{note}"


class Display:
    """Draws events on a stream: on a terminal one status line redrawn in place (and every
    0.5 s while a stage runs, so the elapsed time moves), elsewhere a line per finished stage
    or task."""

    def __init__(self, stream: TextIO, live: bool):
        self.stream = stream
        self.live = live
        self.active: dict[int, _Line] = {}  # task depth → what its part of the line shows
        self.lock = threading.RLock()
        self.drawn = False  # a status line is on the screen
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, ev: Event) -> None:
        with self.lock:
            if self.live:
                self._live(ev)
            elif ev.kind in ("stage-end", "end"):
                self.stream.write("  " * ev.depth + ev.text() + "\n")
                self.stream.flush()

    def _live(self, ev: Event) -> None:
        now = time.perf_counter()
        if ev.kind == "end":
            for d in [d for d in self.active if d >= ev.depth]:
                del self.active[d]
        elif ev.kind == "start":
            self.active[ev.depth] = _Line(ev.task, ev.total, now)
        else:
            line = self.active.setdefault(ev.depth, _Line(ev.task, ev.total,
                                                         now - ev.elapsed_s))
            line.done = ev.done
            if ev.kind == "advance":
                line.note = ev.stage or ""
            else:  # a stage starts, or ends (then its enclosing stage is the current one)
                label = ev.stage or ""
                line.stage = label if ev.kind == "stage" else label.rpartition(" › ")[0]
                line.note = ""
        self._draw()
        if self.active and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True,
                                            name="omnidsl-progress")
            self._ticker.start()

    def _draw(self) -> None:
        now = time.perf_counter()
        parts = [self.active[d].text() for d in sorted(self.active)]
        line = " › ".join(parts)
        if parts:
            line += f" {now - self.active[min(self.active)].t0:.1f} s"
        width = 120
        self.stream.write("\r\x1b[K" + line[:width])
        self.stream.flush()
        self.drawn = bool(line)

    def clear(self) -> None:
        """Take the status line off the screen (before other output; the ticker redraws it)."""
        with self.lock:
            if self.drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.drawn = False

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self.lock:
                if not self.active:
                    self._ticker = None
                    return
                self._draw()

    def close(self) -> None:
        self._stop.set()
        with self.lock:
            self.clear()
            self.active.clear()


class _Guarded:
    """A text stream that clears the status line before anything is written to it (stdout, and
    the ``omnidsl`` log handlers on the display's terminal), so lines never mix with it."""

    def __init__(self, inner: Any, display: Display):
        self._inner = inner
        self._display = display

    def write(self, text: str) -> int:
        with self._display.lock:
            self._display.clear()
            return int(self._inner.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


_display: Display | None = None
_restore: list[Callable[[], None]] = []  # undo the stream guards of the current display


def _guard_streams(display: Display) -> None:
    """Guard stdout (when it is a terminal) and the ``omnidsl`` handlers writing to the
    display's stream."""
    out = sys.stdout
    if out is not display.stream and bool(getattr(out, "isatty", lambda: False)()):
        guarded = _Guarded(out, display)
        sys.stdout = guarded

        def undo_stdout() -> None:
            if sys.stdout is guarded:
                sys.stdout = out

        _restore.append(undo_stdout)
    for h in logging.getLogger("omnidsl").handlers:
        if isinstance(h, logging.StreamHandler) and h.stream is display.stream:
            h.setStream(_Guarded(display.stream, display))
            _restore.append(lambda h=h: h.setStream(display.stream))  # type: ignore[misc]


def configure(show: bool | None = None, stream: TextIO | None = None) -> Display | None:
    """Turn the stderr display on (``show=True``), off (False), or on exactly when the stream is
    a terminal (None).  Replaces any display a previous call installed; returns the new one.
    On a terminal, stdout and the ``omnidsl`` log lines clear the status line before they are
    written (it is redrawn after them)."""
    global _display
    stream = stream or sys.stderr
    while _restore:
        _restore.pop()()
    if _display is not None:
        with _lock:
            if _display in _listeners:
                _listeners.remove(_display)
        _display.close()
        _display = None
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if show is None:
        show = tty
    if show:
        _display = Display(stream, live=tty)
        with _lock:
            _listeners.append(_display)
        if tty:
            _guard_streams(_display)
    return _display


__all__ = ["Event", "Task", "configure", "current", "listen", "step", "task"]
