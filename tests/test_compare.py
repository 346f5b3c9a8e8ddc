"""The regression gate on real runs of this machine, and its statistics on known answers."""

import json
import math
import os
import shutil
import subprocess

import pytest
from conftest import golden_run, run_cli

pytest.importorskip("pandas", reason="compare needs optbench[report]")

from bench.compare import stats  # noqa: E402
from bench.compare.policy import Check, PolicyError, load_policy  # noqa: E402

# Eight seeds a side: the exact one-sided rank test can then reach p = 1/12870, far below
# alpha 0.01, even with a few unstable trials left out of the time verdicts. LeNet's steps
# (milliseconds) time steadier than the curve MLP's (a tenth of one), whose spread a slowed
# run pushed over the stability limit in 3 of 8 trials here. A second of warm-up: without it
# the first linear trials after LeNet's data loaded timed unstable in 2 runs of 2 here.
GATE_SUITE = """
problems:
  linear: {{steps: 150, lr: {{sgd: {lr}}}}}
  lenet: {{steps: 100, batch: 16, options: {{train_size: 128, test_size: 64}}}}
optimizers: {{sgd: {{lr: 0.1}}}}
seeds: {seeds}
budget: {{eval_every: 50}}
threads: {threads}
warmup: 1
slowdown: {slowdown}
telemetry: {{sources: none}}
"""


def make_run(write_suite, results, name, lr=0.5, threads=1, slowdown=0.0, seeds=8):
    text = GATE_SUITE.format(lr=lr, threads=threads, slowdown=slowdown, seeds=list(range(seeds)))
    suite = write_suite(text, name="gate.yaml")
    done = run_cli("run", suite, "--results", str(results), "--run-id", name)
    assert done.returncode == 0, done.stderr
    return os.path.join(str(results), "gate", name)


def suite_writer(tmp_path):
    def write(text, name="suite.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An A/A pair, a slowed candidate, a lower learning rate, other threads: real runs."""
    root = tmp_path_factory.mktemp("gate")
    write = suite_writer(root)
    results = root / "results"
    return {
        "a": make_run(write, results, "a"),
        "a-again": make_run(write, results, "a-again"),
        "slow": make_run(write, results, "slow", slowdown=0.2),
        "lower-lr": make_run(
            write, results, "lower-lr", lr=0.1
        ),  # linear: reaches its target later, if at all
        "threads": make_run(write, results, "threads", threads=2),
        # One seed a side: too few for a test over seeds, so the steps' own times are the samples.
        "one-seed": make_run(write, results, "one-seed", seeds=1),
        # 50%: a single trial a side sees a whole run's drift (20% between consecutive runs here),
        # so this checks the per-step mechanism; the 20% power test is the 8-seed one above.
        "one-seed-slow": make_run(write, results, "one-seed-slow", seeds=1, slowdown=0.5),
        "root": str(root),
    }


def compare(*args):
    done = run_cli("compare", *args, "--format", "json")
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_the_same_suite_run_twice_is_no_regression_in_what_it_learned(runs, tmp_path):
    # What a run learns is a function of its seeds: the A/A pair must agree exactly, whatever the
    # machine did. Its times are another matter: two runs of one code drift as wholes (one A/A
    # pair here ran LeNet 20% slower on all 8 seeds), and the gate's time verdicts have a
    # false-alarm rate, measured by benchmarks/bench_gate_aa.py (3 in 100 pairs at the
    # defaults, docs/PERFORMANCE.md) -- not asserted away in a test that would then flake.
    policy = tmp_path / "learned.yaml"
    policy.write_text("checks: [final_loss, final_metric, steps_to_target]\n")  # replaces the default list
    code, result = compare(runs["a"], runs["a-again"], "--policy", str(policy))
    assert code == 0 and result["verdict"] == "no change", result
    assert len(result["cells"]) == 6 and all(c["ratio"] in (1.0, None) for c in result["cells"])
    assert all(c["baseline_median"] == c["candidate_median"] for c in result["cells"])


@pytest.mark.slow
def test_trials_timed_beside_others_are_left_out_of_time_verdicts_but_not_of_what_they_learned(
    runs, tmp_path
):
    # As a vectorised sweep or parallel jobs write them (TrialRecord.timing_shared): the same
    # run's records, marked batched. Their times are not their own, so no time verdict rests
    # on them -- "insufficient data", saying why -- while what they learned is judged as ever.
    batched = str(tmp_path / "gate" / "batched")
    shutil.copytree(runs["a-again"], batched)
    path = os.path.join(batched, "trials.jsonl")
    records = [dict(json.loads(line), timing_shared="batched") for line in open(path)]
    open(path, "w").write("".join(json.dumps(r) + "\n" for r in records))
    code, result = compare(runs["a"], batched)
    assert code == 3 and result["verdict"] == "insufficient data", result
    timed = [c for c in result["cells"] if c["metric"] in ("step_time", "time_to_target")]
    assert timed and {c["verdict"] for c in timed} == {"insufficient data"}
    assert all("timed beside other trials" in c["note"] and "8 candidate" in c["note"] for c in timed), timed
    learned = [c for c in result["cells"] if c["metric"] in ("final_loss", "final_metric")]
    assert learned and {c["verdict"] for c in learned} == {"no change"}


@pytest.mark.slow
def test_a_20_percent_slower_step_is_a_step_time_regression_and_exit_1(runs):
    # Against the run made just before it: runs drift as wholes, and neighbours drift least.
    code, result = compare(runs["a-again"], runs["slow"])
    assert code == 1 and result["verdict"] == "regressed"
    steps = {c["problem"]: c for c in result["cells"] if c["metric"] == "step_time"}
    # A cell whose trials timed unstable too often is refused as such -- never "no change"
    # (in CI this happened once to linear's 60-microsecond steps and once to LeNet's; in the
    # 100-pair A/A benchmark a fifth to a third of the pairs had such a cell). Every other
    # step-time cell must regress, and at least one must be judged.
    assert any(c["verdict"] == "regressed" for c in steps.values()), steps
    for cell in steps.values():
        if cell["verdict"] == "insufficient data":
            assert "the machine was busy" in cell["note"], cell
            continue
        assert cell["verdict"] == "regressed", cell
        assert 1.1 < cell["ratio"] < 1.4 and cell["p_worse"] <= 0.01
        assert cell["interval"][0] > 1.05  # the bootstrap interval excludes "no change"
    quality = [c for c in result["cells"] if c["metric"] == "final_loss"]
    assert all(c["verdict"] == "no change" for c in quality)  # slower, not worse


@pytest.mark.slow
def test_with_one_trial_a_side_the_step_times_are_the_samples_and_a_50_percent_slowdown_regresses(runs):
    code, result = compare(runs["one-seed"], runs["one-seed-slow"])
    steps = {c["problem"]: c for c in result["cells"] if c["metric"] == "step_time"}
    judged = {p: c for p, c in steps.items() if "the machine was busy" not in c["note"]}
    assert {c["samples_of"] for c in judged.values()} == {"steps"}
    # 150 linear and 100 LeNet steps a trial, each a sample (the curve starts at step 0, time 0).
    expected = {"linear": [150, 150], "lenet": [100, 100]}
    assert all(c["samples"] == expected[p] for p, c in judged.items())
    assert any(c["verdict"] == "regressed" for c in steps.values()), steps
    for cell in steps.values():
        if cell["verdict"] == "insufficient data":  # a busy machine is said, as with seeds
            assert "the machine was busy" in cell["note"], cell
            continue
        assert cell["verdict"] == "regressed" and 1.25 < cell["ratio"] < 1.9, cell
    assert code == 1
    # Other metrics have no per-step samples: one seed a side stays insufficient data for them.
    losses = [c for c in result["cells"] if c["metric"] == "final_loss"]
    assert losses and all(c["verdict"] == "insufficient data" and c["samples_of"] == "seeds" for c in losses)


@pytest.mark.slow
def test_a_lower_learning_rate_regresses_quality_and_time_to_target(runs):
    # The learning rate is part of a configuration: matched as it is, linear's cell is in one run
    # each, and a baseline cell the candidate did not run is not a pass.
    code, result = compare(runs["a"], runs["lower-lr"])
    assert result["unmatched"] == [1, 1] and code == 3 and result["verdict"] == "insufficient data"
    # Matched without it, as a change of the code that trains worse would look.
    code, result = compare(runs["a"], runs["lower-lr"], "--ignore", "lr")
    assert code == 1 and result["verdict"] == "regressed"
    linear = {c["metric"]: c for c in result["cells"] if c["problem"] == "linear"}
    assert linear["final_loss"]["verdict"] == "regressed" and linear["final_loss"]["ratio"] > 1.1
    assert linear["steps_to_target"]["verdict"] == "regressed"


@pytest.mark.slow
def test_other_threads_are_not_comparable_naming_the_field(runs):
    done = run_cli("compare", runs["a"], runs["threads"])
    assert done.returncode == 3
    assert "not comparable: threads: 1 (baseline) vs 2 (candidate)" in done.stdout
    allowed = run_cli("compare", runs["a"], runs["threads"], "--allow-different", "threads")
    assert "not comparable" not in allowed.stdout


@pytest.mark.slow
def test_a_saved_baseline_compares_like_its_runs_and_the_markdown_and_github_files(runs, tmp_path):
    baselines = str(tmp_path / "baselines")
    saved = run_cli("baseline", "save", runs["a-again"], "--name", "nightly", "--baselines", baselines)
    assert saved.returncode == 0, saved.stderr
    listed = run_cli("baseline", "list", "--baselines", baselines)
    assert "nightly" in listed.stdout and "16 trials" in listed.stdout
    github = str(tmp_path / "bench.json")
    done = run_cli("compare", "nightly", runs["slow"], "--baselines", baselines, "--format", "markdown",
                   "--github-json", github)  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.startswith("### optbench compare: regressed") and "| step_time |" not in done.stdout
    assert "step\\_time" in done.stdout  # escaped for Markdown
    entries = json.load(open(github))
    assert entries and all(set(e) == {"name", "unit", "value", "extra"} for e in entries)


def test_a_suites_regressions_block_is_the_policy_and_a_file_and_the_command_line_override_it(tmp_path):
    suite = tmp_path / "gated.yaml"
    suite.write_text("problems: {linear: {steps: 20}}\noptimizers: [sgd]\ntelemetry: {sources: none}\n"
                     "regressions: {alpha: 0.05, checks: [final_loss:20%]}\n")  # fmt: skip
    done = run_cli("run", str(suite), "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    run = str(tmp_path / "results" / "gated")
    code, result = compare(run, run)
    assert result["alpha"] == 0.05 and result["checks"] == ["final_loss:20%"]
    assert result["policy_from"][0] == "the defaults" and str(suite) in result["policy_from"][1]
    code, result = compare(run, run, "--check", "step_time:5%", "--alpha", "0.02")
    assert result["alpha"] == 0.02 and result["checks"] == ["final_loss:20%", "step_time:5%"]
    assert result["policy_from"][-1] == "the command line"
    policy = tmp_path / "policy.yaml"
    policy.write_text("checks: [peak_rss:30%]\n")
    code, result = compare(run, run, "--policy", str(policy))
    assert result["checks"] == ["peak_rss:30%"] and result["alpha"] == 0.05  # the file replaces the list only
    # A saved baseline keeps the suite's block.
    baselines = str(tmp_path / "baselines")
    assert run_cli("baseline", "save", run, "--name", "gated", "--baselines", baselines).returncode == 0
    saved = json.load(open(os.path.join(baselines, "gated.json")))
    assert saved["regressions"] == {"alpha": 0.05, "checks": ["final_loss:20%"]}
    assert str(suite) in saved["regressions_from"]


@pytest.mark.slow
def test_confirm_reruns_the_regressed_cells_interleaved_and_a_real_slowdown_holds(runs, tmp_path):
    # Both runs were made by this checkout: each side's re-run uses its own suite, so the slowed
    # candidate is re-run slowed (the testing aid is in its suite) and the regression holds.
    # The default two rounds a side (ABBA): with one round, the re-run is one more pair of whole
    # runs, and whole runs drift apart by up to 20% here -- in one CI run a 1-round re-run read
    # this 20% slowdown as "no change". Two rounds put the drift on both sides alike.
    where = str(tmp_path / "confirm")
    code, result = compare(runs["a-again"], runs["slow"], "--confirm", "--confirm-dir", where)
    steps = [c for c in result["cells"] if c["metric"] == "step_time"]
    assert any(c["verdict"] == "regressed" and "held on the re-run" in c["note"] for c in steps), steps
    for cell in steps:  # as in the test above: a busy machine is said, never passed
        if cell["verdict"] != "regressed":
            assert cell["verdict"] == "insufficient data" and "the machine was busy" in cell["note"], cell
    assert code == 1 and result["verdict"] == "regressed"
    assert any(n.startswith("confirm: ") and "2 interleaved rounds" in n for n in result["notes"])
    assert not any("one round a side" in n for n in result["notes"])
    for side in ("baseline", "candidate"):  # the re-runs are kept, narrowed to the regressed cells
        suite = open(os.path.join(where, f"{side}-suite.yaml")).read()
        assert "include:" in suite
        assert os.path.exists(os.path.join(where, side, "gate", "round-1", "manifest.json"))


def doctored_copy(run, tmp_path, name, commit=None, loss_added=None):
    """A copy of ``run`` as another commit might have recorded it, or with worse final losses
    than its training gives (a result that does not reproduce)."""
    import shutil

    copy = str(tmp_path / name / "gate" / "doctored")
    shutil.copytree(run, copy)
    manifest = json.load(open(os.path.join(copy, "manifest.json")))
    if commit:
        manifest["environment"]["git_commit"] = commit
    json.dump(manifest, open(os.path.join(copy, "manifest.json"), "w"))
    if loss_added:
        lines = [json.loads(line) for line in open(os.path.join(copy, "trials.jsonl"))]
        for record in lines:
            record["final_loss"] += loss_added  # far above every seed's own: separated at any n
        with open(os.path.join(copy, "trials.jsonl"), "w") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in lines)
    return copy


@pytest.mark.slow
def test_confirm_clears_a_regression_that_does_not_reproduce_running_the_baselines_commit(runs, tmp_path):
    # The candidate claims another commit, so the baseline's recorded commit is checked out into
    # a worktree and re-run from there. What a run learns is a function of its seeds: re-run,
    # the added losses are gone, and only final_loss is checked, so the outcome is exact.
    policy = tmp_path / "loss.yaml"
    policy.write_text("checks: [final_loss:10%]\n")
    worse = doctored_copy(runs["a"], tmp_path, "worse", commit="f" * 40, loss_added=10.0)
    code, first = compare(runs["a-again"], worse, "--policy", str(policy))
    assert code == 1 and {c["verdict"] for c in first["cells"]} == {"regressed"}
    code, result = compare(runs["a-again"], worse, "--policy", str(policy), "--confirm", "1",
                           "--confirm-dir", str(tmp_path / "confirm"))  # fmt: skip
    assert code == 0 and result["verdict"] == "no change", result["notes"]
    assert any("one round a side is one more pair of whole runs" in n for n in result["notes"])
    assert all("did not hold on the re-run (first run: ratio " in c["note"] for c in result["cells"])
    commit = json.load(open(os.path.join(runs["a-again"], "manifest.json")))["environment"]["git_commit"]
    assert any(f"baseline: commit {commit[:10]}" in n for n in result["notes"]), result["notes"]
    listed = subprocess.run(["git", "-C", os.path.dirname(os.path.dirname(__file__)), "worktree", "list"],
                            stdout=subprocess.PIPE, universal_newlines=True).stdout  # fmt: skip
    assert "baseline-code" not in listed  # the worktree is removed afterwards


@pytest.mark.slow
def test_confirm_that_cannot_rerun_says_why_and_the_first_verdict_stands(runs, tmp_path):
    policy = tmp_path / "loss.yaml"
    policy.write_text("checks: [final_loss:10%]\n")
    unknown = doctored_copy(runs["a"], tmp_path, "unknown", commit="0" * 40, loss_added=10.0)
    code, result = compare(unknown, runs["a"], "--policy", str(policy), "--confirm")
    assert code == 0  # no regression in this direction: nothing to confirm, nothing re-run
    code, result = compare(runs["a"], unknown, "--policy", str(policy), "--confirm",
                           "--baseline-checkout", str(tmp_path))  # fmt: skip
    assert code == 1 and result["verdict"] == "regressed"
    assert any("confirm: not done, the first verdict stands" in n and "not an optbench checkout" in n
               for n in result["notes"]), result["notes"]  # fmt: skip


def test_bad_input_exits_2_naming_what_is_wrong(tmp_path):
    missing = run_cli("compare", str(tmp_path / "nothing"), golden_run(2))
    assert missing.returncode == 2 and "neither a run directory" in missing.stderr
    bad_check = run_cli("compare", golden_run(2), golden_run(2), "--check", "speed:5%")
    assert bad_check.returncode == 2 and "unknown metric 'speed'; allowed: step_time" in bad_check.stderr
    policy = tmp_path / "policy.yaml"
    policy.write_text("alpha: 2\n")
    refused = run_cli("compare", golden_run(2), golden_run(2), "--policy", str(policy))
    assert refused.returncode == 2 and "alpha must be a number between 0 and 0.5" in refused.stderr
    assert "Traceback" not in missing.stderr + bad_check.stderr + refused.stderr


def test_too_few_seeds_is_insufficient_data_never_a_pass():
    done = run_cli("compare", golden_run(2), golden_run(2))
    assert done.returncode == 3
    assert "insufficient data" in done.stdout and "at best p = 0.17" in done.stdout


def test_where_seeds_are_too_few_step_time_is_tested_over_the_trials_steps():
    done = run_cli("compare", golden_run(2), golden_run(2), "--format", "json", "--check", "step_time")
    cells = [c for c in json.loads(done.stdout)["cells"] if c["metric"] == "step_time"]
    # Cells whose trials were timed stable (50 steps or more) are judged on their steps; the
    # golden run's LeNet trials (20 steps) are not judged, and one linear cell timed unstable:
    # those stay insufficient data, never a pass.
    on_steps = [c for c in cells if c["samples_of"] == "steps"]
    assert len(on_steps) >= 3
    assert all(c["verdict"] == "no change" and c["ratio"] == 1.0 for c in on_steps)  # the same run
    assert all(c["samples"][0] == c["samples"][1] > 2 for c in on_steps)
    assert all(c["verdict"] == "insufficient data" for c in cells if c not in on_steps)


# --- pytest-benchmark JSON as a side -------------------------------------------------------

STEPS_JSON = os.path.join(os.path.dirname(__file__), "golden", "pytest-benchmark", "steps-5.3.1.json")


def steps_file(path, factor, tmp_path, keep_data=True, rounds=60):
    """The golden file with ``rounds`` steady rounds a benchmark around its median, times
    ``factor`` (50 rounds at least, or the stability rule does not judge them)."""
    document = json.load(open(STEPS_JSON))
    for bench in document["benchmarks"]:
        if keep_data:
            bench["stats"]["data"] = [
                bench["stats"]["median"] * (1 + 0.12 * i / rounds) * factor for i in range(rounds)
            ]
        else:
            del bench["stats"]["data"]
    out = tmp_path / path
    out.write_text(json.dumps(document))
    return str(out)


def test_pytest_benchmark_files_are_compared_on_their_raw_round_times(tmp_path):
    # The golden files keep 5 rounds a benchmark: too few to judge, so never a verdict.
    few = run_cli("compare", STEPS_JSON, STEPS_JSON, "--format", "json")
    result = json.loads(few.stdout)
    assert few.returncode == 3 and {c["verdict"] for c in result["cells"]} == {"insufficient data"}
    assert {c["metric"] for c in result["cells"]} == {"step_time"}  # all a step benchmark measures
    assert {c["configuration"] for c in result["cells"]} >= {"test_step[linear-sgd]"}
    before, after = steps_file("before.json", 1.0, tmp_path), steps_file("after.json", 1.3, tmp_path)
    same = run_cli("compare", before, before, "--format", "json")
    result = json.loads(same.stdout)
    assert same.returncode == 0 and result["verdict"] == "no change"
    assert all(c["samples_of"] == "steps" and c["samples"] == [60, 60] for c in result["cells"])
    slower = run_cli("compare", before, after, "--format", "json")
    result = json.loads(slower.stdout)
    assert slower.returncode == 1 and all(c["verdict"] == "regressed" for c in result["cells"])
    assert all(c["ratio"] == pytest.approx(1.3) and c["samples"] == [60, 60] for c in result["cells"])
    # 3% slower is below the 10% minimum effect: significant, yet no regression.
    slightly = run_cli("compare", before, steps_file("slightly.json", 1.03, tmp_path), "--format", "json")
    result = json.loads(slightly.stdout)
    assert slightly.returncode == 0 and {c["verdict"] for c in result["cells"]} == {"no change"}
    assert all(c["p_worse"] < 0.01 for c in result["cells"])


def test_windows_of_pytest_benchmark_files_with_thousands_of_rounds_are_judged(tmp_path):
    # As CI's self-gate writes them: ~4,000 rounds a benchmark, two files a side. The exact
    # test's bound 1 / C(n + m, n) overflows a float there; it once crashed compare.
    before = ",".join(steps_file(f"before-{i}.json", 1.0, tmp_path, rounds=4000) for i in (1, 2))
    after = ",".join(steps_file(f"after-{i}.json", 1.3, tmp_path, rounds=4000) for i in (1, 2))
    same = run_cli("compare", before, before, "--format", "json")
    result = json.loads(same.stdout)
    assert same.returncode == 0 and result["verdict"] == "no change", same.stderr
    assert all(c["samples"] == [8000, 8000] for c in result["cells"])
    slower = run_cli("compare", before, after, "--format", "json")
    result = json.loads(slower.stdout)
    assert slower.returncode == 1 and {c["verdict"] for c in result["cells"]} == {"regressed"}, slower.stderr
    assert all(c["ratio"] == pytest.approx(1.3) for c in result["cells"])


def test_pytest_benchmark_files_refuse_a_run_and_files_without_round_times(tmp_path):
    mixed = run_cli("compare", STEPS_JSON, golden_run(2))
    assert mixed.returncode == 2 and "compare runs with runs" in mixed.stderr
    bare = run_cli("compare", STEPS_JSON, steps_file("bare.json", 1.0, tmp_path, keep_data=False))
    assert bare.returncode == 2 and "saved without its raw round times" in bare.stderr
    other = run_cli("compare", STEPS_JSON, os.path.join(os.path.dirname(STEPS_JSON), "steps-3.4.1.json"))
    assert (
        other.returncode == 3
        and "not comparable: torch: '2.13.0+cpu' (baseline) vs '1.10.2+cu102'" in other.stdout
    )


# --- statistics on known answers ---------------------------------------------------------


def test_the_exact_rank_test_on_known_answers():
    assert stats.p_larger([1, 2, 3], [4, 5, 6]) == pytest.approx(1 / 20)  # complete separation
    assert stats.p_larger([4, 5, 6], [1, 2, 3]) == 1.0
    assert stats.smallest_p(5, 5) == pytest.approx(1 / 252)
    assert stats.smallest_p(2, 2) == pytest.approx(1 / 6)
    # C(1200, 600) is beyond a float: no OverflowError, the bound is simply as low as can be.
    assert stats.smallest_p(600, 600) == 0.0 and stats.smallest_p(4000, 8000) == 0.0
    # U = 8 of 9 pairs: the splits with U >= 8 are 2 of C(6, 3) = 20
    assert stats.p_larger([1, 2, 4], [3, 5, 6]) == pytest.approx(2 / 20)
    # all tied: no evidence either way
    assert stats.p_larger([1, 1, 1], [1, 1, 1]) == 1.0


def test_the_normal_approximation_agrees_with_the_exact_test_where_both_apply():
    base = [float(v) for v in range(10)]
    cand = [v + 3.5 for v in base]
    exact = stats.p_larger(base, cand)
    approximate = stats._normal_p(stats._u_statistic(base, cand), base + cand, 10, 10)
    assert exact == pytest.approx(approximate, rel=0.25)


def test_the_bootstrap_interval_brackets_the_ratio_and_is_reproducible():
    base = [1.0, 1.02, 0.98, 1.01, 0.99]
    cand = [1.2, 1.22, 1.18, 1.21, 1.19]
    low, high = stats.ratio_interval(base, cand)
    assert low <= 1.2 <= high and low > 1.1
    assert stats.ratio_interval(base, cand) == (low, high)


def test_checks_parse_from_short_strings_and_policies_combine(tmp_path):
    assert str(Check.parse("step_time:5%")) == "step_time:5%"
    assert Check.parse("final_loss").min_effect == 0.10  # the metric's default
    with pytest.raises(PolicyError, match="the effect is a percentage"):
        Check.parse("step_time:fast")
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("alpha: 0.05\nchecks: [step_time:3%, final_loss:20%]\n")
    policy = load_policy(str(policy_file), checks=["step_time:8%"])
    assert policy.alpha == 0.05
    assert [str(c) for c in policy.checks] == ["step_time:8%", "final_loss:20%"]
    assert math.isclose(load_policy().alpha, 0.01)
