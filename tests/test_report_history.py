"""The report's History section (issue 16), on results directories of nights written by the
store (tests/test_history_runs.write_nights: sgd and adam on linear, two seeds, 1% noise):
a 10% step in sgd's times reaches the HTML, the Markdown and tables/history.csv with its trend
figure; too few nights give one line; the report of an older run does not see the nights
after it, nor those of another machine."""

import json
import os
import pathlib

import pytest
from conftest import run_cli

pytest.importorskip("seaborn", reason="the report needs optbench[report]")
pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")

import pandas as pd  # noqa: E402

from bench.report import history_section  # noqa: E402
from bench.report.build import build_report  # noqa: E402
from tests.test_history_runs import write_nights  # noqa: E402

NIGHTS, STEP_AT = 30, 20


def night_dir(results, night):
    """The run directory of ``night`` (write_nights names them out of night order on purpose)."""
    (found,) = (pathlib.Path(results) / "nightly").glob(f"*-night-{night:02d}")
    return str(found)


def read(report, name):
    with open(os.path.join(report, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def stepped(tmp_path_factory):
    """30 nights; sgd's step and training times 10% slower from night 20; night 3 in another
    power mode, and sgd throttled on night 8 (both left out of the time series)."""
    return write_nights(
        tmp_path_factory.mktemp("stepped"), NIGHTS, slower_from=STEP_AT, slowdown=1.1, throttled=(8,),
        power_modes={3: "5W"},
    )  # fmt: skip


def test_a_ten_percent_step_is_in_the_report_with_its_trend(stepped, tmp_path):
    # As a user asks for it: the suite's directory, whose latest run is night 29.
    done = run_cli("report", os.path.join(stepped, "nightly"), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    report = str(tmp_path / "report")

    changes = pd.read_csv(os.path.join(report, "tables", "history.csv"))
    assert sorted(changes["metric"]) == ["step_time", "train_time"]
    assert set(changes["configuration"]) == {"linear sgd lr 0.1"}  # adam did not change
    assert list(changes["night"]) == [STEP_AT, STEP_AT] and changes["regression"].all()
    assert changes["ratio"].tolist() == pytest.approx([1.1, 1.1], rel=0.03)

    markdown = read(report, "report.md")
    history = markdown[markdown.index("## History") : markdown.index("## linear")]
    assert "30 nights of this suite on this machine" in history and "to night-29" in history
    assert "2 changes flagged, 2 in the regression direction" in history
    # Nights, not (series, night) pairs: night 3 leaves out 4 time series, night 8 sgd's 2.
    assert (
        "nights left out of the time and energy series they affect: 1 in another power mode, 1 throttled"
        in history
    )
    assert (
        "| step\\_time | linear sgd lr 0.1 | step | 20 | night-19 -\\> night-20 | 1919191919 -\\> 2020202020 |"
        in history
    )
    assert "| regression | 1 power mode, 1 throttled |" in history  # the series' own left-out nights
    assert "(figures/history-1.svg)" in history and "(figures/history-2.svg)" in history
    assert "a step at night 20" in history
    assert sorted(n for n in os.listdir(os.path.join(report, "figures")) if n.startswith("history")) == [
        "history-1.svg", "history-2.svg",
    ]  # fmt: skip

    page = read(report, "index.html")
    section = page[
        page.index('<section id="history">') : page.index("</section>", page.index('id="history"'))
    ]
    assert '<table id="table-history">' in section and "night-19 -&gt; night-20" in section
    assert section.count('<img src="data:image/svg+xml;base64,') == 2
    assert '<a href="#history">History</a>' in page


def test_too_few_nights_say_so_in_one_line(tmp_path):
    results = write_nights(tmp_path / "results", 5)
    report = build_report(night_dir(results, 4), str(tmp_path / "report"), figure_modules=())
    line = "History needs 9 nights; this suite has 5 on this machine up to this run."
    markdown = read(report, "report.md")
    assert f"## History\n\n{line}\n\n## linear" in markdown
    assert f'<section id="history">\n  <h2>History</h2>\n  <p>{line}</p>' in read(report, "index.html")
    assert not os.path.exists(os.path.join(report, "tables", "history.csv"))
    assert not [n for n in os.listdir(os.path.join(report, "figures")) if n.startswith("history")]


def test_the_report_of_an_older_run_ignores_the_nights_after_it(stepped, tmp_path):
    report = build_report(night_dir(stepped, 15), str(tmp_path / "report"), figure_modules=())
    markdown = read(report, "report.md")
    history = markdown[markdown.index("## History") : markdown.index("## linear")]
    assert "16 nights of this suite on this machine" in history and "to night-15 (2026-12-16)" in history
    assert "14 later runs not counted" in history
    assert history.rstrip().endswith("No change flagged over 16 nights.")
    assert "night-20" not in markdown and "night-29" not in markdown
    assert not os.path.exists(os.path.join(report, "tables", "history.csv"))


def test_runs_on_another_machine_are_not_counted(tmp_path):
    results = write_nights(tmp_path / "results", 10)
    for night in (2, 5):  # the same suite run on a second host
        path = os.path.join(night_dir(results, night), "manifest.json")
        with open(path) as handle:
            manifest = json.load(handle)
        manifest["environment"]["host"] = "other-host"
        with open(path, "w") as handle:
            json.dump(manifest, handle)
    report = build_report(night_dir(results, 9), str(tmp_path / "report"), figure_modules=())
    assert (
        "History needs 9 nights; this suite has 8 on this machine up to this run "
        "(2 runs on other machines not counted)." in read(report, "report.md")
    )


def test_an_unreadable_sibling_run_is_one_line_not_a_failed_report(tmp_path):
    results = write_nights(tmp_path / "results", 3)
    corrupt = os.path.join(night_dir(results, 1), "manifest.json")
    with open(corrupt, "w") as handle:
        handle.write("{")
    report = build_report(night_dir(results, 2), str(tmp_path / "report"), figure_modules=())
    markdown = read(report, "report.md")
    assert "History could not be read: " in markdown and "corrupt manifest" in markdown


def test_figures_beyond_the_cap_are_counted_not_drawn(stepped, tmp_path, monkeypatch):
    monkeypatch.setattr(history_section, "MAX_FIGURES", 1)
    report = build_report(night_dir(stepped, NIGHTS - 1), str(tmp_path / "report"), figure_modules=())
    assert [n for n in os.listdir(os.path.join(report, "figures")) if n.startswith("history")] == [
        "history-1.svg"
    ]
    assert "1 more flagged series without a figure here" in read(report, "report.md")
    assert (
        len(pd.read_csv(os.path.join(report, "tables", "history.csv"))) == 2
    )  # the table keeps every change


def test_regressions_are_drawn_first_the_largest_move_first():
    def change(metric, ratio, regression, moved=None):
        return {"metric": metric, "configuration_key": "k", "machine": "m", "ratio": ratio, "regression": regression,
                "machine_moved": moved}  # fmt: skip

    changes = pd.DataFrame([
        change("final_loss", 0.5, False),  # the largest move, but an improvement
        change("step_time", 1.08, True, moved=True),
        change("train_time", 1.3, True, moved=False),
        change("energy", 1.06, True),
        change("energy", 0.7, False),  # the same series: a regression in it puts it with the regressions
        change("canary", 1.5, True),  # the machine itself slower: not the code's regression
    ])  # fmt: skip
    order = [metric for metric, _, _ in history_section.flagged_series(changes)]
    assert order == ["energy", "train_time", "step_time", "final_loss", "canary"]
    assert history_section.change_tally(changes) == (
        "6 changes flagged, 3 in the regression direction (1 where the machine moved too), "
        "1 of the canary (the machine itself)."
    )
