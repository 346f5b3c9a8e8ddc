"""The report's implementations-side-by-side figures: a real run of one configuration in
several implementations (torch, autograd; tensorflow where installed), its report built."""

import json
import os

import pytest
from conftest import run_cli
from report_fixtures import close, golden_data

from bench.learners import tensorflow_runtime

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from bench.report.build import build_report  # noqa: E402
from bench.report.figures import frameworks  # noqa: E402

IMPLEMENTATIONS = ["torch", "autograd"] + (["tensorflow"] if tensorflow_runtime.available() else [])
SUITE = """\
name: frameworks
problems:
  linear-noisy: {{options: {{init: zeros}}}}
  curve: {{activation: tanh}}
optimizers: {{sgd: {{lr: 0.0001}}, adam: {{lr: 0.01}}}}
exclude: [{{problem: curve, optimizer: sgd}}]
implementation: {implementations}
budget: {{steps: 30, eval_every: 10}}
seeds: [0, 1]
canary: false
telemetry: {{sources: [none]}}
"""


def test_a_cell_is_a_configuration_without_its_implementation():
    torch_cell = {"problem": "linear", "optimizer": "sgd", "lr": 0.1, "implementation": "torch"}
    tf_cell = dict(torch_cell, implementation="tensorflow", tf_updates="manual", tf_function=True)
    other = dict(torch_cell, lr=0.2)
    key = lambda config: frameworks.cell_key(json.dumps(config, sort_keys=True))  # noqa: E731
    assert key(torch_cell) == key(tf_cell) != key(other)


def test_a_run_of_one_implementation_has_no_such_figure():
    assert frameworks.build(golden_data()) == []


@pytest.mark.slow
def test_the_report_shows_each_shared_cell_by_implementation(tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE.format(implementations=json.dumps(IMPLEMENTATIONS)))
    done = run_cli("run", "suite.yaml", "--results", "results", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = build_report(str(tmp_path / "results" / "frameworks"), str(tmp_path / "report"))
    figures = sorted(os.listdir(os.path.join(out, "figures")))
    # linear-noisy: sgd and adam, each run in every implementation; curve: adam only.
    assert [f for f in figures if f.startswith("frameworks-")] == [
        "frameworks-curve-1.svg", "frameworks-linear-noisy-1.svg", "frameworks-linear-noisy-2.svg",
    ]  # fmt: skip
    with open(os.path.join(out, "report.md"), encoding="utf-8") as handle:
        summary = handle.read()
    with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
        page = handle.read()
    title = "linear-noisy: sgd lr 0.0001, init zeros, by implementation"
    assert title in summary and title in page
    notes = [line for line in summary.splitlines() if line.startswith("The same data, initial weights")]
    assert len(notes) == 3
    for note in notes:
        for implementation in IMPLEMENTATIONS:
            assert f"{implementation}: " in note and " µs per step" in note
    linear = [n for n in notes if "(optimum " in n]
    assert len(linear) == 2  # the linear problem's learned parameters against the optimum; not the curve's
    from bench.report.data import load_report_data
    from bench.store import latest_run

    items = frameworks.build(load_report_data(latest_run(str(tmp_path / "results" / "frameworks"))))
    try:
        for item in items:  # every implementation drawn, in the order the run recorded them
            loss_ax, learned_ax, time_ax = item.figure.axes
            assert [line.get_label() for line in loss_ax.get_lines()] == IMPLEMENTATIONS
            assert [t.get_text() for t in time_ax.get_xticklabels()] == IMPLEMENTATIONS
    finally:
        close(items)


def test_step_times_of_trials_not_timed_alone_are_left_out():
    rows = pd.DataFrame(
        {"step_time_median_s": [1e-4, 2e-4, 9e-4, None], "timing_shared": [None, None, "contended", None]}
    )
    assert list(frameworks.own_step_times(rows)) == [1e-4, 2e-4]
