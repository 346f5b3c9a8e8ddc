"""The report's files on committed results: the Markdown summary and the CSV tables are
golden files, regenerated only on purpose (OPTBENCH_REGENERATE_GOLDEN=1 pytest ...); a
schema-1 run renders; user text is escaped in HTML and Markdown; bad input is refused."""

import os
import re
import shutil

import pytest
from conftest import GOLDEN, golden_run, run_cli

pytest.importorskip("seaborn", reason="the report needs optbench[report]")

from bench.record import SCHEMA_VERSION  # noqa: E402
from bench.report.build import build_report  # noqa: E402

GOLDEN_REPORT = os.path.join(GOLDEN, "report-schema-2")
REGENERATE = os.environ.get("OPTBENCH_REGENERATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report(golden_run(2), str(tmp_path_factory.mktemp("report") / "golden"))


def golden_files():
    files = ["report.md"]
    tables = os.path.join(GOLDEN_REPORT, "tables")
    if os.path.isdir(tables):
        files += [os.path.join("tables", name) for name in sorted(os.listdir(tables))]
    return files


def test_the_markdown_and_the_csv_tables_match_the_golden_files(report):
    if REGENERATE:
        shutil.rmtree(GOLDEN_REPORT, ignore_errors=True)
        os.makedirs(os.path.join(GOLDEN_REPORT, "tables"))
        shutil.copy(os.path.join(report, "report.md"), GOLDEN_REPORT)
        for name in os.listdir(os.path.join(report, "tables")):
            shutil.copy(os.path.join(report, "tables", name), os.path.join(GOLDEN_REPORT, "tables"))
    written = ["report.md"] + [
        os.path.join("tables", n) for n in sorted(os.listdir(os.path.join(report, "tables")))
    ]
    assert written == golden_files(), "the report writes other files than the golden report holds"
    for name in written:
        with open(os.path.join(report, name), encoding="utf-8") as new, open(
            os.path.join(GOLDEN_REPORT, name), encoding="utf-8"
        ) as old:
            assert new.read() == old.read(), f"{name} differs from tests/golden/report-schema-2/{name}"


def test_the_report_holds_every_part_the_issue_names(report):
    names = sorted(os.listdir(report))
    assert names == ["figures", "index.html", "report.md", "tables"]
    figures = os.listdir(os.path.join(report, "figures"))
    assert figures and all(f.endswith((".svg", ".png")) for f in figures)
    with open(os.path.join(report, "report.md"), encoding="utf-8") as md:
        text = md.read()
    for figure in figures:
        assert f"(figures/{figure})" in text  # every figure is referenced beside the summary
    with open(os.path.join(report, "index.html"), encoding="utf-8") as page:
        html = page.read()
    assert (
        "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    )  # nothing to fetch
    assert html.count("data:image/") == len(figures)  # each figure embedded


def test_a_schema_1_run_renders(tmp_path):
    out = build_report(golden_run(1), str(tmp_path / "v1"))
    with open(os.path.join(out, "report.md"), encoding="utf-8") as md:
        text = md.read()
    assert f"results schema {SCHEMA_VERSION} (written in 1)" in text
    assert "## linear-noisy" in text


def test_user_text_is_escaped_in_html_and_markdown(write_suite, tmp_path):
    # Every name a user chooses: the suite's name and description, the run's id.
    name, run_id = "<img src=x onerror=alert(2)>*odd*_", "<svg onload=alert(3)>|run`x`"
    suite = write_suite(
        f'name: "{name}"\ndescription: "<script>alert(1)</script> | *bold* [x](http://evil)"\n'
        "problems: {linear: {steps: 5}}\noptimizers: {sgd: {lr: 0.1}}\n",
        name="odd.yaml",
    )
    done = run_cli("run", suite, "--results", str(tmp_path / "results"), "--run-id", run_id)
    assert done.returncode == 0, done.stderr
    shown = run_cli("report", str(tmp_path / "results" / name), "--out", str(tmp_path / "out"))
    assert shown.returncode == 0, shown.stderr
    with open(str(tmp_path / "out" / "index.html"), encoding="utf-8") as page:
        html = page.read()
    for raw in ("<script>alert(1)</script>", "<img src=x", "<svg onload"):
        assert raw not in html
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;*odd*_",
                    "&lt;svg onload=alert(3)&gt;|run`x`"):  # fmt: skip
        assert escaped in html
    with open(str(tmp_path / "out" / "report.md"), encoding="utf-8") as md:
        text = md.read()
    assert r"\<script\>alert(1)\</script\> \| \*bold\* \[x\](http://evil)" in text
    assert r"\<img src=x onerror=alert(2)\>\*odd\*\_" in text and r"\<svg onload=alert(3)\>\|run\`x\`" in text
    for raw in ("<script>", "<img", "<svg", "*odd*", "|run"):  # nowhere unescaped
        assert not re.search(r"(?<!\\)" + re.escape(raw), text), raw


def test_bad_input_gets_a_clear_error_and_exit_2(tmp_path):
    missing = run_cli("report", str(tmp_path / "nothing-here"))
    assert missing.returncode == 2
    assert "neither a run directory" in missing.stderr and "Traceback" not in missing.stderr
    corrupt = tmp_path / "corrupt"
    shutil.copytree(golden_run(2), str(corrupt))
    with open(str(corrupt / "trials.jsonl"), "a") as trials:
        trials.write('{"schema": 2, "trial_id": "x"}\n{"schema": 2}\n')
    refused = run_cli("report", str(corrupt), "--out", str(tmp_path / "out"))
    assert refused.returncode == 2
    assert "trials.jsonl: line 25" in refused.stderr and "Traceback" not in refused.stderr
    assert not os.path.exists(str(tmp_path / "out"))  # nothing half-written


def test_a_baseline_adds_ratios_for_the_same_configurations(tmp_path):
    import pandas as pd

    same = build_report(golden_run(2), str(tmp_path / "same"), baseline_dir=golden_run(2))
    summary = pd.read_csv(os.path.join(same, "tables", "summary.csv"))
    ratios = summary[["final_loss_median_vs_baseline", "time_to_target_median_s_vs_baseline"]]
    assert (summary["final_loss_median_vs_baseline"] == 1.0).all()
    assert ratios["time_to_target_median_s_vs_baseline"].dropna().eq(1.0).all()
    with open(os.path.join(same, "report.md"), encoding="utf-8") as md:
        text = md.read()
    assert "**baseline**: golden/schema2" in text and "| loss vs baseline |" in text
    # Version 1 ran with torch's 2 threads, version 2 with 1: no configuration is the same.
    other = build_report(golden_run(2), str(tmp_path / "other"), baseline_dir=golden_run(1))
    with open(os.path.join(other, "report.md"), encoding="utf-8") as md:
        assert "No best configuration here ran in the baseline (golden/schema1)" in md.read()


def test_a_run_spread_over_machines_says_which_machine_ran_each_trial(tmp_path):
    # As a dask run over two boards records it (TrialRecord.environment): the header names each
    # machine with its trial count and warns that their times do not compare; the appendix
    # says where each trial ran. A run on the manifest's machine alone has neither.
    import csv
    import json

    run_dir = str(tmp_path / "spread")
    shutil.copytree(golden_run(4), run_dir)
    path = os.path.join(run_dir, "trials.jsonl")
    records = [json.loads(line) for line in open(path)]
    manifest_env = json.load(open(os.path.join(run_dir, "manifest.json")))["environment"]
    for index, record in enumerate(records):
        board = "nano-a" if index % 2 == 0 else "nano-b"
        record["environment"] = dict(
            manifest_env, host=board, board="NVIDIA Jetson Nano", cpu="ARMv8", cpu_count=4
        )
    open(path, "w").write("".join(json.dumps(r) + "\n" for r in records))
    out = build_report(run_dir, str(tmp_path / "report"))
    markdown = open(os.path.join(out, "report.md"), encoding="utf-8").read()
    assert (
        "**ran on**: nano-a (ARMv8, 4 cores, NVIDIA Jetson Nano): 14 trials; nano-b (ARMv8, 4 cores,"
        in markdown
    )
    assert "Times and energy of different machines are not comparable" in markdown
    with open(os.path.join(out, "tables", "trials.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [row["machine"].split(" ")[0] for row in rows[:2]] == ["nano-a", "nano-b"]
    from bench.report.data import load_report_data
    from bench.report.figures.steptimes import step_time_points

    points = step_time_points(load_report_data(run_dir).trials, "linear")  # never pooled over machines
    assert not points.empty and {g.split("\n")[-1] for g in points["group"]} == {"nano-a", "nano-b"}
    plain = build_report(golden_run(4), str(tmp_path / "plain"))
    assert "**ran on**" not in open(os.path.join(plain, "report.md"), encoding="utf-8").read()
    with open(os.path.join(plain, "tables", "trials.csv")) as handle:
        assert "machine" not in next(csv.reader(handle))
