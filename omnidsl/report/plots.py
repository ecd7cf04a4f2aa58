"""PNG charts with matplotlib's object API (no pyplot state: safe in threads and servers).

matplotlib is the ``[plot]`` extra; without it every function raises a located
:class:`OmniDSLError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omnidsl.errors import OmniDSLError

#: The first 8 bytes of every PNG file.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _figure(width: float = 6.4, height: float = 3.6) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise OmniDSLError("charts need matplotlib, which is not installed",
                           hint="pip install 'omnidsl[plot]'") from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Any, ax: Any, path: Path, title: str, xlabel: str, ylabel: str) -> Path:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def line_chart(path: Path, x: Sequence[float], series: Mapping[str, Sequence[float | None]],
               title: str, xlabel: str, ylabel: str, logx: bool = False,
               logy: bool = False, integer_x: bool = False) -> Path:
    """One line per series (a None value is a gap) against ``x``; written to ``path``;
    ``integer_x``: ticks on whole numbers only (rounds, servers, inputs)."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, ys in series.items():
        pts = [(a, b) for a, b in zip(x, ys, strict=True) if b is not None]
        if pts:
            ax.plot([a for a, _ in pts], [b for _, b in pts], marker="o", label=name)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    if integer_x:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(fig, ax, path, title, xlabel, ylabel)


def bar_chart(path: Path, labels: Sequence[str], stacks: Mapping[str, Sequence[float]],
              title: str, xlabel: str, ylabel: str, colors: Sequence[str] | None = None,
              stacked: bool = True) -> Path:
    """Bars per label, one colour per series (stacked, or side by side)."""
    fig = _figure()
    ax = fig.add_subplot()
    n = len(stacks)
    base = [0.0] * len(labels)
    xs = list(range(len(labels)))
    width = 0.7 if stacked else 0.8 / max(n, 1)
    for k, (name, ys) in enumerate(stacks.items()):
        color = colors[k] if colors and k < len(colors) else None
        if stacked:
            ax.bar(xs, ys, width, bottom=base, label=name, color=color)
            base = [b + y for b, y in zip(base, ys, strict=True)]
        else:
            ax.bar([x + (k - (n - 1) / 2) * width for x in xs], ys, width, label=name,
                   color=color)
    ax.set_xticks(xs, list(labels))
    return _finish(fig, ax, path, title, xlabel, ylabel)
