"""The landscapes: each optimizer's path across a 2-D function, drawn and animated.

Per function, a contour plot (log-spaced levels of f - f*, or of |f - f*| on each side of the
saddle's level) with two panels: every optimizer's path at its own best learning rate, and at
one learning rate common to all of them; the start (circle) and the minimiser (star) marked,
a diverged path drawn up to its last finite point and labelled. Then the same best-rate paths
as a GIF, step by step: matplotlib's FuncAnimation written by its Pillow writer (no ffmpeg),
bounded to ANIMATION_FRAMES frames of a small figure, and made for the noise-free functions
only, so that a suite of many functions keeps the report a few MB (docs/PERFORMANCE.md).
"""

import math
import os
import tempfile
from typing import List

import numpy as np
from matplotlib.figure import Figure

from bench.report import landscapes, palette
from bench.report.figures import FigureItem

SIZE = (10, 4.6)
GRID = 200  # contour grid points per axis
LEVELS = 14
ANIMATION_FRAMES = 30
ANIMATION_SIZE = (5.0, 4.0)
ANIMATION_DPI = 80
ANIMATION_FPS = 10


def CONTOUR_COLOURS(fraction: float):  # noqa: N802 -- a colour map, named as one
    from matplotlib import colormaps

    return colormaps["viridis"](fraction)


def contour_grid(surface, points: int = GRID):
    """(X, Y, Z) over the surface's view window, Z = f - f*."""
    (x0, x1), (y0, y1) = surface.view
    x, y = np.meshgrid(np.linspace(x0, x1, points), np.linspace(y0, y1, points))
    return x, y, surface.value(x, y) - surface.minimum


def log_levels(z, count: int = LEVELS):
    """Contour levels spaced evenly in log10 |z| (z = f - f*): positive ones from just above the
    minimum to the largest value; where z also goes negative (the saddle), mirrored below."""
    finite = z[np.isfinite(z)]
    top = float(np.max(np.abs(finite)))
    positive = finite[finite > 0]
    low = max(float(np.min(positive)) if positive.size else top * 1e-6, top * 1e-6)
    levels = np.logspace(math.log10(low), math.log10(top), count)
    if np.min(finite) < 0:
        half = np.logspace(math.log10(top * 1e-3), math.log10(top), count // 2)
        levels = np.concatenate([-half[::-1], half])
    return levels


def _draw_surface(ax, surface, grid) -> None:
    x, y, z = grid
    levels = log_levels(z)
    # One colour per level, dark in the valleys to pale on the walls, so every level shows.
    shades = [CONTOUR_COLOURS(0.15 + 0.7 * i / max(len(levels) - 1, 1)) for i in range(len(levels))]
    if levels[0] < 0:  # the saddle: both sides run from the saddle's level outwards
        half = len(levels) // 2
        shades = shades[:half][::-1] + shades[:half]
    ax.contour(x, y, z, levels=levels, colors=shades, linewidths=0.8, alpha=0.75)
    ax.plot(*surface.start, "o", color="black", markersize=6, zorder=5)
    ax.plot(*surface.minimiser, "*", color="black", markersize=11, zorder=5)
    (x0, x1), (y0, y1) = surface.view
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _label(optimizer: str, points, with_lr: bool) -> str:
    label = f"{optimizer}, lr {points['lr'].iloc[0]:g}" if with_lr else optimizer
    if points["status"].iloc[0] == "diverged":
        label += f" (diverged, step {int(points['step'].iloc[-1])})"
    return label


def plot_paths(paths, surface, *, title: str, common_lr) -> Figure:
    """Two panels over the function's contours: ``paths`` (bench.report.landscapes.paths) of
    panel "best" on the left, of panel "common" (all at ``common_lr``) on the right."""
    figure = Figure(figsize=SIZE, layout="constrained")
    axes = figure.subplots(1, 2, sharex=True, sharey=True)
    grid = contour_grid(surface)
    panels = (("best", "each at its best learning rate"), ("common", f"all at lr {common_lr:g}"))
    for ax, (panel, heading) in zip(axes, panels):
        _draw_surface(ax, surface, grid)
        mine = paths[paths["panel"] == panel]
        for optimizer in palette.ordered(mine["optimizer"]):
            points = mine[mine["optimizer"] == optimizer].sort_values("step")
            colour = palette.colour(optimizer)
            line = ax.plot(points["x"], points["y"], color=colour, linewidth=1.4, alpha=0.9,
                           label=_label(optimizer, points, panel == "best"))[0]  # fmt: skip
            line.set_gid(f"path-{panel}-{optimizer}")
            end = "x" if points["status"].iloc[0] == "diverged" else "o"
            ax.plot(points["x"].iloc[-1], points["y"].iloc[-1], end, color=colour, markersize=5)
        ax.set_title(heading, fontsize=10)
        if not mine.empty:  # below the panel: inside, it hid the start or a path's end
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, frameon=False)
    figure.suptitle(title, fontsize=11)
    return figure


class PathAnimation:
    """The best-rate paths drawn step by step; ``render()`` gives the GIF's bytes."""

    def __init__(self, paths, surface, title: str, frames: int = ANIMATION_FRAMES):
        self.paths, self.surface, self.title, self.frames = paths, surface, title, frames

    def frame_steps(self) -> List[int]:
        last = int(self.paths["step"].max()) if not self.paths.empty else 0
        count = max(2, min(self.frames, last + 1))
        return sorted({int(round(i * last / (count - 1.0))) for i in range(count)})

    def _background(self):
        """The still part (contours, axes, legend, start and minimiser) drawn once, as pixels,
        and the axes' position: redrawing it at every frame was 90% of the animation's time."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure = Figure(figsize=ANIMATION_SIZE, dpi=ANIMATION_DPI)
        figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)
        ax = figure.subplots()
        _draw_surface(ax, self.surface, contour_grid(self.surface, points=150))
        for optimizer in palette.ordered(self.paths["optimizer"]):
            ax.plot([], [], color=palette.colour(optimizer), linewidth=1.4, label=optimizer)
        ax.legend(fontsize=7, loc="best", framealpha=0.85)
        ax.set_title(self.title, fontsize=9)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy(), ax.get_position().bounds

    def render(self) -> bytes:
        from matplotlib.animation import FuncAnimation, PillowWriter

        background, position = self._background()
        figure = Figure(figsize=ANIMATION_SIZE, dpi=ANIMATION_DPI)
        figure.figimage(background, origin="upper")
        ax = figure.add_axes(position, zorder=1)  # above the background image
        ax.set_axis_off()
        (x0, x1), (y0, y1) = self.surface.view
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        lines, heads, tracks = [], [], []
        for optimizer in palette.ordered(self.paths["optimizer"]):
            points = self.paths[self.paths["optimizer"] == optimizer].sort_values("step")
            colour = palette.colour(optimizer)
            lines.append(ax.plot([], [], color=colour, linewidth=1.4)[0])
            heads.append(ax.plot([], [], "o", color=colour, markersize=5)[0])
            tracks.append((points["step"].to_numpy(), points["x"].to_numpy(), points["y"].to_numpy()))
        caption = ax.text(0.02, 0.02, "", transform=ax.transAxes, fontsize=9,
                          bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})  # fmt: skip

        def draw(step):
            for line, head, (steps, xs, ys) in zip(lines, heads, tracks):
                shown = int(np.searchsorted(steps, step, side="right"))
                line.set_data(xs[:shown], ys[:shown])
                head.set_data(xs[max(shown - 1, 0) : shown], ys[max(shown - 1, 0) : shown])
            caption.set_text(f"step {step}")
            return lines + heads + [caption]

        animation = FuncAnimation(figure, draw, frames=self.frame_steps(), blit=False)
        # PillowWriter writes to a path only; a temporary file, read back and removed.
        handle, path = tempfile.mkstemp(suffix=".gif")
        os.close(handle)
        try:
            animation.save(path, writer=PillowWriter(fps=ANIMATION_FPS))
            with open(path, "rb") as gif:
                return gif.read()
        finally:
            os.remove(path)


def build(data) -> List[FigureItem]:
    found = landscapes.functions(data)
    if not found:
        return []
    trajectories = landscapes.load_trajectories(data.run_dir)
    items = []
    for function in found:
        drawn = landscapes.paths(function, trajectories)
        name = f"landscape-{function.key}"
        if drawn.empty:
            why = "no trajectory was recorded for its trials (a run written before results schema 3?)"
            items.append(FigureItem(name, f"{function.title}: paths", landscapes.LANDSCAPES, None, why))
            continue
        common = landscapes.common_lr(function)
        figure = plot_paths(drawn, function.surface, title=function.title, common_lr=common)
        marked = "the stationary point ★" if function.surface.name == "saddle" else "minimiser ★"
        note = (f"Contours of f - f* on log-spaced levels; start ●, {marked}. "
                "Left: each optimizer at the learning rate that ranked best over its seeds; right: every optimizer "
                f"at lr {common:g}. The first seed's path; a diverged path ends in × at its last finite point, "
                "and the plot is clipped to the window.")  # fmt: skip
        if function.noisy:
            note += (
                " Not animated: animations are kept to the noise-free functions, to bound the report's size."
            )
        items.append(FigureItem(name, f"{function.title}: paths", landscapes.LANDSCAPES, figure, note, "png"))
        if function.noisy:
            continue
        animation = PathAnimation(drawn[drawn["panel"] == "best"], function.surface, function.title)
        items.append(FigureItem(f"{name}-animation", f"{function.title}: the paths, step by step",
                                landscapes.LANDSCAPES, animation,
                                f"The left panel's paths, {len(animation.frame_steps())} frames.", "gif"))  # fmt: skip
    return items
