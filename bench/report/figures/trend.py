"""The trend of one nightly series, with the changes history flagged in it.

One point per night (the configuration's median over seeds) in its optimizer's colour;
nights left out of the series (throttled, unstable timing, another power mode) as hollow
grey points, so a reader sees what was not counted. Each flagged step is a dashed vertical
line at its first night, with the level before and after drawn across their segments; creep
is the best level over its best nights and the recent level over the last nights.

Each change's ratio is written where the nights are not: a step's at the top of the axes on
the side of its lower level, creep's over the recent nights at the edge away from them (creep
is always the worse way). The legend sits below the axes. Written next to the level, both
covered the nights right after a step, the ones a reader looks at. Times and energies are
ticked with SI prefixes ("60 µs", "12 ms").
"""

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter

from bench.compare.history_command import commits_text, direction_text, night_text, runs_text
from bench.report import palette
from bench.report.figures import FigureItem

SIZE = (8, 4)
# final_loss has none; the canary is its reference workload's time (bench.compare.history_canary).
UNITS = {"step_time": "s", "train_time": "s", "time_to_target": "s", "energy": "J", "canary": "s"}
# The ratio labels: at an edge of the axes (x in nights, y in axes fractions), on a white ground.
_LABEL = dict(xycoords=("data", "axes fraction"), textcoords="offset points", fontsize=8,
              bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.85))  # fmt: skip


def _label(ax, text: str, night: float, rises: bool, creep: bool, gid: str) -> None:
    """A step's ratio at the top, left of its line when the level rises (the nights before are the
    low ones), right when it falls; creep's from its first recent night, at the bottom when the
    recent nights are the high ones, at the top when they are the low ones."""
    if creep:
        at_top, right = not rises, True
    else:
        at_top, right = True, not rises
    offset = (3 if right else -3, -3 if at_top else 3)
    ax.annotate(text, (night, 1 if at_top else 0), xytext=offset, ha="left" if right else "right",
                va="top" if at_top else "bottom", gid=gid, **_LABEL)  # fmt: skip


def trend_figure(series_frame, changes) -> Figure:
    """``series_frame``: the rows of bench.compare.history.load_series for one series (one
    suite, metric, configuration and machine); ``changes``: that series' rows of
    bench.compare.history.find_changes (possibly none)."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.subplots()
    rows = series_frame.sort_values("night")
    colour = (
        palette.colour(rows["optimizer"].iloc[0]) if "optimizer" in rows and len(rows) else palette.UNKNOWN
    )
    kept = rows[rows["excluded"].isna()]
    left_out = rows[rows["excluded"].notna()]
    ax.plot(kept["night"], kept["value"], color=colour, marker="o", markersize=4, linewidth=0.8,
            label="night (median over seeds)", gid="kept")  # fmt: skip
    if len(left_out):
        ax.scatter(left_out["night"], left_out["value"], facecolors="none", edgecolors=palette.UNKNOWN, s=30,
                   label=f"left out ({', '.join(sorted(set(left_out['excluded']))).replace('_', ' ')})",
                   gid="left-out")  # fmt: skip
    last = int(rows["night"].max()) if len(rows) else 0
    steps = changes[changes["kind"] == "step"].sort_values("night") if len(changes) else changes
    step_nights = [int(n) for n in steps["night"]] if len(steps) else []
    for _, change in changes.iterrows():
        night, since = int(change["night"]), int(change["since_night"])
        if change["kind"] == "step":
            later = [n for n in step_nights if n > night]
            end = (later[0] - 1) if later else last
            ax.axvline(night - 0.5, color=palette.UNKNOWN, linestyle="--", linewidth=1, gid=f"step-{night}")
            ax.hlines(
                change["level_before"], since, night - 1, colors="black", linewidth=2, gid=f"before-{night}"
            )
            ax.hlines(change["level_after"], night, end, colors="black", linewidth=2, gid=f"after-{night}")
            rises = change["level_after"] > change["level_before"]
            _label(ax, f"x{change['ratio']:.3f}", night - 0.5, rises, False, f"ratio-{night}")
        else:
            best_end = since + (last - night)  # as many nights as the recent ones
            ax.hlines(change["level_before"], since, best_end, colors="black", linestyle=":", linewidth=2,
                      gid=f"creep-best-{since}")  # fmt: skip
            ax.hlines(change["level_after"], night, last, colors="black", linestyle=":", linewidth=2,
                      gid=f"creep-recent-{night}")  # fmt: skip
            rises = change["level_after"] > change["level_before"]
            _label(ax, f"creep x{change['ratio']:.3f}", night, rises, True, f"ratio-creep-{night}")
    handles, _ = ax.get_legend_handles_labels()
    if step_nights:
        handles.append(Line2D([], [], color="black", linewidth=2, label="level before / after a step"))
    if len(changes) and (changes["kind"] == "creep").any():
        handles.append(
            Line2D([], [], color="black", linestyle=":", linewidth=2, label="best / recent level (creep)")
        )
    fig.legend(
        handles=handles, fontsize=8, loc="outside lower center", ncols=min(len(handles), 3), frameon=False
    )
    metric = str(rows["metric"].iloc[0]) if len(rows) else ""
    if len(rows):
        first = rows.iloc[0]
        ax.set_title(f"{metric.replace('_', ' ')}: {first['configuration']}\n{first['machine']}", fontsize=9)
    ax.set_xlabel("night")
    ax.set_ylabel(metric.replace("_", " "))
    if metric in UNITS:
        ax.yaxis.set_major_formatter(EngFormatter(unit=UNITS[metric]))
    ax.grid(alpha=0.3)
    ax.margins(y=0.12)  # headroom for the ratio labels at the edges
    return fig


def _change_text(change) -> str:
    what = (
        f"a step at night {change['night']}"
        if change["kind"] == "step"
        else f"creep, nights {night_text(change)}"
    )
    return (
        f"{what} (x{change['ratio']:.3f}, p = {change['p_value']:.2g}, {direction_text(change)}; "
        f"runs {runs_text(change)}, commits {commits_text(change)})"
    )


def trend_item(name: str, series_frame, changes, section: str) -> FigureItem:
    """The report's item for one flagged series: ``series_frame`` and ``changes`` as
    ``trend_figure`` takes them, the caption naming each change and what was left out."""
    first = series_frame.iloc[0]
    flagged = "; ".join(_change_text(change) for _, change in changes.sort_values("night").iterrows())
    left_out = series_frame["excluded"].dropna()
    note = f"Flagged: {flagged}. One point per night: the median over seeds."
    if len(left_out):
        counts = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in left_out.value_counts().items())
        note += f" Hollow grey points: nights left out of the series ({counts})."
    title = f"{first['metric'].replace('_', ' ')}: {first['configuration']}"
    return FigureItem(name, title, section, trend_figure(series_frame, changes), note)
