"""Figure 8: power and temperature over the whole run, with the trials marked.

From telemetry.csv: each source's total power (its rails where it gives no total) and every
temperature zone, against time since the run's first sample. Each trial's window (its
``window_start_s``/``window_end_s``, on the samples' clock) is shaded in its optimizer's
colour; throttled trials are hatched and marked with a red triangle on the top edge.
Where a source went silent (a recorded gap: jtop died, tegrastats exited, NVML failed) the
time without its samples is greyed, and the trials whose telemetry is partial by the
nightly summary's rule (bench.telemetry.partial) are cross-hatched: their figures cover only
the sampled part. Drawn only where the run has power or temperature samples.
"""

from typing import List, Optional

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.analysis import require_pandas
from bench.report import palette
from bench.report.figures import OVERVIEW, FigureItem
from bench.telemetry.partial import partial_telemetry, source_intervals

SIZE = (8, 4.5)
MAX_ZONES = 6  # the hottest ones, by peak, where a board reports more


def timeline_samples(telemetry):
    """Power and temperature samples: time_s, source, name, value, kind ('power' or 'temperature')."""
    names = telemetry["name"].astype(str)
    power = names.str.startswith("power_w.")
    has_total = set(telemetry.loc[names == "power_w.total", "source"])
    # a source's rails only where it gives no total (otherwise the total says it)
    keep_power = power & ((names == "power_w.total") | ~telemetry["source"].isin(has_total))
    temperature = names.str.startswith("temp_c.")
    frame = telemetry[(keep_power | temperature) & telemetry["value"].notna()].copy()
    frame["kind"] = ["power" if n.startswith("power_w.") else "temperature" for n in frame["name"]]
    return frame.reset_index(drop=True)


WINDOW_COLUMNS = ["start_s", "end_s", "optimizer", "problem", "throttled", "partial"]


def trial_windows(trials, intervals=None):
    """One row per trial with a recorded window: start_s, end_s, optimizer, problem,
    throttled, partial (its telemetry covers only part of it; ``intervals``: the sources'
    sampling intervals, bench.telemetry.partial.source_intervals)."""
    pd = require_pandas()
    out = []
    for row in trials.itertuples():
        telemetry = row.telemetry if isinstance(row.telemetry, dict) else {}
        start, end = telemetry.get("window_start_s"), telemetry.get("window_end_s")
        if start is None or end is None:
            continue
        partial = partial_telemetry(row.trial_id, telemetry, intervals or {}) is not None
        out.append({"start_s": start, "end_s": end, "optimizer": row.optimizer, "problem": row.problem,
                    "throttled": telemetry.get("throttled") is True, "partial": partial})  # fmt: skip
    return pd.DataFrame(out, columns=WINDOW_COLUMNS)


def gap_spans(trials, last_s: float):
    """The recorded gaps (a source without samples), once each, from the trials' records:
    (source, start_s, end_s, reason); a gap that never closed ends at ``last_s``."""
    spans = {}
    for telemetry in trials["telemetry"]:
        if not isinstance(telemetry, dict):  # a trial without telemetry reads as NaN
            continue
        for gap in telemetry.get("gaps") or []:
            end = gap.get("end_s")
            key = (gap.get("source"), gap.get("start_s"))
            spans[key] = (
                gap.get("source"),
                gap.get("start_s"),
                last_s if end is None else end,
                gap.get("reason"),
            )
    return sorted(spans.values(), key=lambda span: span[1])


def plot_timeline(samples, windows, *, title: str, origin_s: Optional[float] = None, gaps=()) -> Figure:
    """A power panel and a temperature panel (each only where there are samples of it),
    sharing the time axis (seconds since ``origin_s``, default the first sample); ``gaps``:
    gap_spans' rows, greyed."""
    kinds = [k for k in ("power", "temperature") if (samples["kind"] == k).any()]
    origin = samples["time_s"].min() if origin_s is None else origin_s
    fig = Figure(figsize=SIZE, layout="constrained")
    axes = fig.subplots(len(kinds), 1, sharex=True, squeeze=False)[:, 0]
    labels = {"power": "power (W)", "temperature": "temperature (°C)"}
    styles = ["-", "--", ":", "-."]
    for ax, kind in zip(axes, kinds):
        series = samples[samples["kind"] == kind]
        names = list(dict.fromkeys(zip(series["source"], series["name"])))
        if kind == "temperature" and len(names) > MAX_ZONES:
            peaks = series.groupby(["source", "name"])["value"].max().sort_values(ascending=False)
            names = list(peaks.index[:MAX_ZONES])
        for i, (source, name) in enumerate(names):
            one = series[(series["source"] == source) & (series["name"] == name)]
            label = "{} {} ({})".format(source, name.split(".", 1)[1], "W" if kind == "power" else "°C")
            # dark lines: the colours belong to the optimizers' shading, red to throttling
            ax.plot(one["time_s"] - origin, one["value"], color=("0.1", "0.45")[i // 4 % 2], linestyle=styles[i % len(styles)],
                    linewidth=0.8, label=label)[0].set_gid(f"{kind}-{source}-{name}")  # fmt: skip
        _shade(ax, windows, origin)
        _grey_gaps(ax, gaps, origin)
        ax.set_ylabel(labels[kind])
        ax.margins(x=0.01)
        ax.grid(alpha=0.25)
    axes[-1].set_xlabel("time since the run's first sample (s)")
    # one legend beside the panels: the traces fill them, so a legend inside would hide some
    handles = [line for ax in axes for line in ax.get_lines() if not line.get_label().startswith("_")]
    handles += [
        Patch(color=palette.colour(o), alpha=0.3, label=f"{o} trials")
        for o in palette.ordered(windows["optimizer"])
    ]
    throttled = int(windows["throttled"].sum())
    if throttled:
        handles.append(
            Line2D([], [], color="red", marker="v", linestyle="", label=f"throttled ({throttled} trials)")
        )
    for source in dict.fromkeys(span[0] for span in gaps):
        handles.append(Patch(color=GAP_GREY, alpha=0.45, label=f"no {source} samples"))
    partial = int(windows["partial"].sum())
    if partial:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="0.3",
                hatch="xxx",
                label=f"partial telemetry ({partial} trial{'s' if partial != 1 else ''})",
            )
        )
    fig.legend(
        handles=handles,
        loc="outside right upper",
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(title)
    return fig


GAP_GREY = "0.55"


def _grey_gaps(ax, gaps, origin: float) -> None:
    spans = [(start - origin, end - start) for _source, start, end, _reason in gaps]
    if spans:
        ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), color=GAP_GREY, alpha=0.45,
                       linewidth=0, zorder=2).set_gid("telemetry-gaps")  # fmt: skip


def _shade(ax, windows, origin: float) -> None:
    for optimizer in palette.ordered(windows["optimizer"]):
        mine = windows[windows["optimizer"] == optimizer]
        spans = list(zip(mine["start_s"] - origin, mine["end_s"] - mine["start_s"]))
        ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), color=palette.colour(optimizer),
                       alpha=0.18, linewidth=0, zorder=0).set_gid(f"windows-{optimizer}")  # fmt: skip
    hot = windows[windows["throttled"]]
    if len(hot):
        spans = list(zip(hot["start_s"] - origin, hot["end_s"] - hot["start_s"]))
        ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), facecolor="none", edgecolor="red",
                       hatch="///", linewidth=0, alpha=0.5, zorder=1).set_gid("throttled-windows")  # fmt: skip
        middles = (hot["start_s"] + hot["end_s"]) / 2 - origin
        ax.scatter(middles, [1.0] * len(hot), marker="v", s=22, color="red", transform=ax.get_xaxis_transform(),
                   clip_on=False, zorder=5).set_gid("throttled")  # fmt: skip
    partial = windows[windows["partial"]]
    if len(partial):
        spans = list(zip(partial["start_s"] - origin, partial["end_s"] - partial["start_s"]))
        ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), facecolor="none", edgecolor="0.3",
                       hatch="xxx", linewidth=0, alpha=0.6, zorder=1).set_gid("partial-windows")  # fmt: skip
    # the problems, in run order, named where each begins; a name that would run into the
    # one before it goes a line higher
    ordered = windows.sort_values("start_s")
    if ordered.empty:
        return
    span = max(ordered["end_s"].max() - ordered["start_s"].min(), 1e-9)
    previous, last_x, level = None, None, 0
    for row in ordered.itertuples():
        if row.problem == previous:
            continue
        x = row.start_s - origin
        ax.axvline(x, color="0.4", linewidth=0.6, linestyle=":", zorder=1)
        if ax.get_subplotspec().is_first_row():
            crowded = last_x is not None and (x - last_x) / span < 0.012 * len(str(previous))
            level = (level + 1) % 2 if crowded else 0
            ax.text(x, 1.02 + 0.07 * level, f" {row.problem}", transform=ax.get_xaxis_transform(), fontsize=7,
                    color="0.3", va="bottom")  # fmt: skip
            last_x = x
        previous = row.problem


def build(data) -> List[FigureItem]:
    name, title = "timeline", "Power and temperature over the run"
    samples = timeline_samples(data.telemetry)
    if samples.empty:
        sources = sorted(set(data.telemetry["source"].dropna()))
        if sources:
            why = "The run's telemetry ({}) has no power or temperature samples.".format(", ".join(sources))
        else:
            why = "The run recorded no telemetry."
        return [FigureItem(name, title, OVERVIEW, None, why)]
    windows = trial_windows(data.trials, source_intervals(data.manifest))
    last = max(samples["time_s"].max(), windows["end_s"].max() if len(windows) else samples["time_s"].max())
    gaps = gap_spans(data.trials, last)
    figure = plot_timeline(samples, windows, title=title, gaps=gaps)
    verdicts = data.trials["throttled"]
    throttled = int((verdicts == True).sum())  # noqa: E712 -- True, False or None (unknown)
    note = (
        "From telemetry.csv, every sample. Shaded: each trial's window (training and its untimed "
        "evaluations), in its optimizer's colour; dotted lines where each problem begins."
    )
    note += (
        f" {throttled} trial{'s' if throttled != 1 else ''} throttled (hatched, red triangles)."
        if throttled
        else (" No trial was throttled." if (verdicts == False).any() else " Throttling could not be judged.")  # noqa: E712
    )
    partial = int(windows["partial"].sum())
    if gaps or partial:
        lost = "; ".join(dict.fromkeys(f"{source}: {reason}" for source, _start, _end, reason in gaps))
        note += (
            f" Telemetry partial for {partial} trial{'s' if partial != 1 else ''} (cross-hatched): their energy, "
            "power and temperature figures cover only the sampled part, or are left out, with the reason, in "
            "their records where too little was sampled."
        )
        if lost:
            note += f" Grey: no samples ({lost})."
    if windows.empty:
        note += " The trials' windows were not recorded (an optbench that did not write them): not marked."
    return [FigureItem(name, title, OVERVIEW, figure, note, format="png")]
