"""The report's landscapes section: present only for runs with landscapes; per noise-free function
a GIF embedded in the page, bounded in frames; the steps-to-target table with "never"; the
contour figure's markers and labels."""

import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import golden_run, run_cli

pytest.importorskip("seaborn", reason="the report needs optbench[report]")

from bench import surfaces  # noqa: E402
from bench.report import landscapes  # noqa: E402
from bench.report.data import load_report_data  # noqa: E402
from bench.report.figures import landscapes as figures  # noqa: E402

SUITE = """\
problems:
  quadratic: {options: {condition: 10, noise: [0, 0.1]}, steps: 40}
  saddle: {steps: 40}
optimizers: {sgd: {lr: [0.1, 1.0, 2.5]}, adam: {lr: 0.1}}
seeds: [0, 1]
telemetry: {sources: [none]}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("landscapes")
    (root / "small.yaml").write_text(SUITE)
    done = run_cli("run", str(root / "small.yaml"), "--results", str(root / "results"), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    shown = run_cli("report", str(root / "results" / "small" / "r"), "--out", str(root / "report"))
    assert shown.returncode == 0, shown.stderr
    return str(root / "report")


def read(report, name):
    with open(os.path.join(report, name), encoding="utf-8") as handle:
        return handle.read()


def test_each_noise_free_function_gets_an_embedded_gif_of_bounded_frames(report):
    from PIL import Image

    html = read(report, "index.html")
    assert '<section id="landscapes">' in html and 'href="#landscapes"' in html
    gifs = sorted(f for f in os.listdir(os.path.join(report, "figures")) if f.endswith(".gif"))
    # quadratic without noise and the saddle; the noisy quadratic is drawn, not animated
    assert gifs == [
        "landscape-quadratic-condition-10-no-noise-animation.gif",
        "landscape-saddle-no-noise-animation.gif",
    ]
    assert html.count("data:image/gif;base64,") == 2
    for gif in gifs:
        with open(os.path.join(report, "figures", gif), "rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            assert image.format == "GIF" and 1 < image.n_frames <= figures.ANIMATION_FRAMES
    assert "landscape-quadratic-condition-10-noise-0.1.png" in os.listdir(os.path.join(report, "figures"))


def test_each_option_set_of_a_problem_is_a_section_of_its_own_with_plain_file_names(report):
    # The noisy and the noise-free quadratic are two problems to the generic sections too (each
    # its own winner and figures), and their names make file names without spaces or brackets.
    markdown = read(report, "report.md")
    assert "## quadratic (noise 0)" in markdown and "## quadratic (noise 0.1)" in markdown
    assert "## quadratic\n" not in markdown
    written = os.listdir(os.path.join(report, "figures")) + os.listdir(os.path.join(report, "tables"))
    assert "optimizers-quadratic-noise-0.1.csv" in written and "convergence-quadratic-noise-0.svg" in written
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in written), written
    assert "](tables/optimizers-quadratic-noise-0.1.csv)" in markdown


def test_the_table_says_never_where_no_seed_reached_the_target(report):
    import pandas as pd

    table = pd.read_csv(os.path.join(report, "tables", "landscapes-to-target.csv"))
    assert set(table["function"]) == {"quadratic, condition 10, no noise", "quadratic, condition 10, noise 0.1",
                                      "saddle, no noise"}  # fmt: skip
    assert len(table) == 3 * 2  # each function x (sgd, adam)
    # 40 steps are too few for SGD on the bowl: its slow direction shrinks by 0.9 a step at best
    # (at lr 1, where the stiff one is gone after a step, f = 0.05 y^2 from y = 1.2 falls below 1e-6 at step 53).
    row = table[
        (table["function"] == "quadratic, condition 10, no noise") & (table["optimizer"] == "sgd")
    ].iloc[0]
    assert row["reached"] == 0 and np.isnan(row["steps_to_target_median"])
    markdown = read(report, "report.md")
    assert "## Optimizer landscapes" in markdown
    assert "| quadratic, condition 10, no noise | sgd | 1 | 0 of 2 | never | never | 0 |" in markdown
    # Plain SGD escapes the saddle at lr 1: y grows 3-fold a step from 1e-3, f < -1 by step 7.
    assert "| saddle, no noise | sgd | 1 | 2 of 2 | 10 |" in markdown


def test_a_run_without_landscapes_has_no_landscapes_section():
    data = load_report_data(golden_run(2))
    assert landscapes.functions(data) == [] and figures.build(data) == []
    assert landscapes.target_table([]) is None


def test_the_contours_mark_start_and_minimiser_and_label_a_diverged_path():
    import pandas as pd

    surface = surfaces.surface("quadratic", {"condition": 10.0})
    frame = pd.DataFrame({
        "panel": ["best"] * 4 + ["common"] * 2, "optimizer": ["sgd", "sgd", "adam", "adam", "sgd", "sgd"],
        "lr": [2.5, 2.5, 0.1, 0.1, 0.1, 0.1], "status": ["diverged"] * 2 + ["ok"] * 4,
        "reason": [None] * 6, "trial_id": list("aabbcc"), "step": [0, 1, 0, 1, 0, 1],
        "x": [1.0, -0.5, 1.0, 0.9, 1.0, 0.9], "y": [1.0, 0.75, 1.0, 0.9, 1.0, 0.99],
    })  # fmt: skip
    figure = figures.plot_paths(frame, surface, title="quadratic", common_lr=0.1)
    best, common = figure.axes
    labels = [text.get_text() for text in best.get_legend().get_texts()]
    assert labels == ["sgd, lr 2.5 (diverged, step 1)", "adam, lr 0.1"]
    assert common.get_title() == "all at lr 0.1"
    markers = {(line.get_marker(), tuple(line.get_xydata()[0])) for line in best.get_lines()}
    assert ("o", surface.start) in markers and ("*", surface.minimiser) in markers
    assert ("x", (-0.5, 0.75)) in markers  # the diverged path ends in a cross


def test_contour_levels_are_log_spaced_and_cover_the_saddle_on_both_sides():
    _, _, bowl = figures.contour_grid(surfaces.surface("quadratic", {"condition": 100.0}))
    levels = figures.log_levels(bowl)
    assert (levels > 0).all() and np.allclose(np.diff(np.log10(levels)), np.diff(np.log10(levels))[0])
    _, _, saddle = figures.contour_grid(surfaces.surface("saddle", {}))
    levels = figures.log_levels(saddle)
    assert np.allclose(levels, -levels[::-1]) and (levels < 0).sum() == (levels > 0).sum()


def test_a_run_whose_sgd_diverges_draws_its_recorded_path_to_the_divergence_and_labels_it(
    write_suite, tmp_path
):
    """From a real run to the figure: SGD at lr 2.5 > 2/L on the bowl diverges (its stiff coordinate
    grows 1.5-fold a step); both panels draw its trajectory as recorded, up to where the trial
    stopped, ending in a cross there, and label it with the step."""
    import pandas as pd

    suite = write_suite(
        "problems: {quadratic: {options: {condition: 10}, steps: 60}}\n"
        "optimizers: {sgd: {lr: 2.5}, adam: {lr: 2.5}}\nseeds: [0]\ntelemetry: {sources: [none]}\n"
    )
    done = run_cli("run", suite, "--results", str(tmp_path), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    run_dir = str(tmp_path / "suite" / "r")
    data = load_report_data(run_dir)
    sgd = data.trials[data.trials["optimizer"] == "sgd"].iloc[0]
    assert sgd["status"] == "diverged" and sgd["steps"] < 60, sgd["reason"]
    recorded = pd.read_csv(os.path.join(run_dir, "trajectories.csv"))
    recorded = recorded[recorded["trial_id"] == sgd["trial_id"]]
    assert int(recorded["step"].iloc[-1]) == sgd["steps"]  # kept up to the divergence, not beyond
    last = (recorded["x"].iloc[-1], recorded["y"].iloc[-1])

    item = figures.build(data)[0]
    assert item.name == "landscape-quadratic-condition-10-no-noise"
    labels = {
        "best": f"sgd, lr 2.5 (diverged, step {sgd['steps']})",
        "common": f"sgd (diverged, step {sgd['steps']})",
    }
    for ax, panel in zip(item.figure.axes, ("best", "common")):
        assert labels[panel] in [text.get_text() for text in ax.get_legend().get_texts()]
        (path,) = [line for line in ax.get_lines() if line.get_gid() == f"path-{panel}-sgd"]
        assert np.allclose(path.get_xydata(), recorded[["x", "y"]].to_numpy())
        crosses = [tuple(line.get_xydata()[0]) for line in ax.get_lines() if line.get_marker() == "x"]
        assert crosses == [last]

    # The README's facts come from this script: it reads the same run the same way.
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks",
                          "landscape_facts.py")  # fmt: skip
    facts = subprocess.run([sys.executable, script, run_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout  # fmt: skip
    assert "quadratic, condition 10, no noise\n at its best learning rate:\n" in facts
    final = "{:10.3g}".format(sgd["final_metric"])  # where it stopped: f there, not a made-up figure
    assert (
        f"  sgd       lr 2.5     reached 0 of 1  steps to target  never  final {final}  diverged 1" in facts
    )
    assert " all at lr 2.5:\n  sgd       lr 2.5" in facts
