"""A corpus of malformed suites: each one exits 2 at once, naming the file and the key, with no
traceback and nothing recorded. tests/golden/malformed-suites.txt keeps the messages stable
(regenerate it with OPTBENCH_REGENERATE_GOLDEN=1 and read the diff).

The suites run in-process through bench.cli.main (a traceback would fail the test as an
exception); a few also run as real processes, as a user would see them.
"""

import os

import pytest
from conftest import run_cli

from bench import cli
from bench.suite_reader import MAX_ALIASES, MAX_DEPTH, MAX_SUITE_BYTES

REGENERATE = os.environ.get("OPTBENCH_REGENERATE_GOLDEN") == "1"
GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "malformed-suites.txt")
OK = "problems: [linear]\noptimizers: [sgd]\n"


def _alias_bomb() -> str:
    lines, previous = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'], "l0"
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = f"l{level}"
    return "\n".join(lines) + f"\n{OK}seeds: *{previous}\n"


# name -> the file's bytes (text is written as UTF-8). At least one per class of mistake.
CORPUS = {
    # the file itself
    "utf-16": OK.encode("utf-16"),
    "random-bytes": bytes(range(128, 256)) * 4,
    "latin-1": (OK + "description: caf\xe9\n").encode("latin-1"),
    "empty": "",
    "only-a-comment": "# nothing here\n",
    "top-level-list": "- linear\n- sgd\n",
    "top-level-scalar": "linear\n",
    "invalid-yaml": "problems: [linear\noptimizers: [sgd]\n",
    "tab-indentation": "problems:\n\t- linear\n",
    "oversized": OK + "description: '" + "x" * (MAX_SUITE_BYTES + 1) + "'\n",
    # YAML's own hazards
    "duplicate-key": OK + "problems: [curve]\n",
    "list-as-key": OK + "? [a, b]\n: 1\n",
    "mapping-as-key": OK + "? {a: 1}\n: 1\n",
    "alias-bomb": _alias_bomb(),
    "too-many-aliases": "g: &g [0.1]\n" + OK + "seeds: [" + ", ".join(["*g"] * (MAX_ALIASES + 1)) + "]\n",
    "deep-nesting": OK + "description: " + "[" * (MAX_DEPTH * 50) + "]" * (MAX_DEPTH * 50) + "\n",
    "recursive-alias": OK + "exclude: &r [*r]\n",
    # shapes where names belong
    "list-inside-problems": "problems: [[linear]]\noptimizers: [sgd]\n",
    "mapping-inside-optimizers": "problems: [linear]\noptimizers: [{sgd: {lr: 0.1}}]\n",
    "number-as-problems": "problems: 5\noptimizers: [sgd]\n",
    "number-in-problem-list": "problems: [linear, 7]\noptimizers: [sgd]\n",
    "problem-settings-not-a-mapping": "problems: {linear: 5}\noptimizers: [sgd]\n",
    "missing-problems": "optimizers: [sgd]\n",
    "missing-optimizers": "problems: [linear]\n",
    # names
    "unknown-problem": "problems: [lenett]\noptimizers: [sgd]\n",
    "unknown-optimizer": "problems: [linear]\noptimizers: [adma]\n",
    "unknown-top-level-key": OK + "optimisers: [adam]\n",
    "unknown-budget-key": OK + "budget: {stpes: 10}\n",
    "name-with-a-slash": OK + "name: a/b\n",
    "description-not-text": OK + "description: [a, b]\n",
    # numbers
    "lr-infinite": "problems: [linear]\noptimizers: {sgd: {lr: .inf}}\n",
    "lr-nan": "problems: [linear]\noptimizers: {sgd: {lr: .nan}}\n",
    "lr-negative": "problems: [linear]\noptimizers: {sgd: {lr: -0.1}}\n",
    "lr-text": "problems: [linear]\noptimizers: {sgd: {lr: fast}}\n",
    "lr-empty": "problems: [linear]\noptimizers: {sgd: {lr: []}}\n",
    "betas-out-of-range": "problems: [linear]\noptimizers: {adam: {betas: [2, 3]}}\n",
    "seed-negative": OK + "seeds: [-1]\n",
    "seed-twice": OK + "seeds: [1, 1]\n",
    "seeds-and-repeats": OK + "seeds: [1]\nrepeats: 2\n",
    "repeats-zero": OK + "repeats: 0\n",
    "repeats-huge": OK + "repeats: 1000000000\n",
    "steps-zero": OK + "budget: {steps: 0}\n",
    "steps-and-epochs": OK + "budget: {steps: 10, epochs: 1}\n",
    "time-limit-negative": OK + "budget: {time_limit: -5}\n",
    "warmup-negative": OK + "warmup: -1\n",
    "slowdown-infinite": OK + "slowdown: .inf\n",
    # axes
    "unknown-activation": "problems: [curve]\noptimizers: [sgd]\nactivation: relux\n",
    "unknown-device": OK + "device: gpu\n",
    "batch-zero": OK + "batch: 0\n",
    "batch-text": OK + "batch: half\n",
    "dropout-above-one": "problems: [curve]\noptimizers: [sgd]\ndropout: 1.5\n",
    "threads-zero": OK + "threads: 0\n",
    # problem options
    "curve-points-zero": "problems: {curve: {options: {points: 0}}}\noptimizers: [sgd]\n",
    "unknown-data-set": "problems: {lenet: {options: {data: imagenet}}}\noptimizers: [sgd]\n",
    "unknown-option": "problems: {curve: {options: {pionts: 10}}}\noptimizers: [sgd]\n",
    # the rest of the grammar
    "include-not-a-list": OK + "include: {problem: linear}\n",
    "exclude-empty-pattern": OK + "exclude: [{}]\n",
    "unknown-order": OK + "order: sideways\n",
    "unknown-telemetry-source": OK + "telemetry: {sources: [bogus]}\n",
    "unknown-on-missing-device": OK + "on_missing_device: ignore\n",
    "regressions-unknown-metric": OK + "regressions: {checks: [speed:5%]}\n",
    "canary-not-a-boolean": OK + "canary: sometimes\n",
    # where the trials run (bench/executors/choice.py)
    "executor-unknown-kind": OK + "executor: cluster\n",
    "executor-jobs-zero": OK + "executor: {kind: local, jobs: 0}\n",
    "executor-scheduler-for-local": OK + "executor: {kind: local, scheduler: 'tcp://nano:8786'}\n",
    "executor-unknown-worker-tag": OK + "executor: {kind: dask, workers: {gpu: maxwell}}\n",
    "executor-worker-tag-not-a-name": OK + "executor: {kind: dask, workers: {device: [cuda, 3]}}\n",
    # a plan too large to expand
    "plan-too-large": "problems: [linear, curve]\noptimizers: {sgd: {lr: [%s]}, adam: {}}\nrepeats: 10000\n"
    % ", ".join(str(i / 1000) for i in range(1, 1001)),
}


def _write(directory, name: str) -> str:
    path = os.path.join(str(directory), name + ".yaml")
    content = CORPUS[name]
    with open(path, "wb") as handle:
        handle.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _run_in_process(tmp_path, capsys, name: str):
    """(exit code, stderr) of `optbench run NAME.yaml` from inside tmp_path."""
    _write(tmp_path, name)
    here = os.getcwd()
    os.chdir(str(tmp_path))
    try:
        code = cli.main(["run", name + ".yaml", "--results", "results"])
    finally:
        os.chdir(here)
    return code, capsys.readouterr().err


def test_the_corpus_is_large_and_covers_every_class():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_malformed_suite_exits_2_naming_the_file_with_nothing_recorded(tmp_path, capsys, name):
    code, err = _run_in_process(tmp_path, capsys, name)
    assert code == 2, err
    assert err.startswith("error: ") and f"{name}.yaml" in err, err
    assert "Traceback" not in err and len(err) < 2000, err  # named, not dumped
    assert not os.path.exists(tmp_path / "results")  # nothing recorded, not even a directory


def test_the_messages_match_the_golden_file(tmp_path, capsys):
    lines = []
    for name in sorted(CORPUS):
        _, err = _run_in_process(tmp_path, capsys, name)
        lines.append(f"== {name}\n{err.rstrip()}\n")
    text = "\n".join(lines)
    if REGENERATE or not os.path.exists(GOLDEN):
        with open(GOLDEN, "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(GOLDEN, encoding="utf-8") as handle:
        assert text == handle.read()


@pytest.mark.parametrize("name", ["utf-16", "alias-bomb", "deep-nesting", "plan-too-large"])
def test_as_a_user_sees_it_in_a_real_process_within_seconds(tmp_path, name):
    path = _write(tmp_path, name)
    for command in ("run", "plan"):
        done = run_cli(command, path, "--results", str(tmp_path / "results"), timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert not os.path.exists(tmp_path / "results")


def test_a_plan_too_large_is_counted_at_once_and_planned_with_yes(tmp_path, capsys, monkeypatch):
    _write(tmp_path, "plan-too-large")
    code = cli.main(["plan", str(tmp_path / "plan-too-large.yaml")])
    assert code == 2 and "expands to 20,060,000 trials before include/exclude" in capsys.readouterr().err
    monkeypatch.setattr("bench.commands.MAX_TRIALS", 10)  # a small limit, so --yes can be tried
    small = tmp_path / "twelve.yaml"
    small.write_text("problems: [linear]\noptimizers: {sgd: {lr: [0.1, 0.2, 0.3]}}\nrepeats: 4\n")
    assert cli.main(["plan", str(small)]) == 2 and "12 trials" in capsys.readouterr().err
    assert cli.main(["plan", str(small), "--yes"]) == 0 and ": 12 trials" in capsys.readouterr().out


def test_a_plan_too_large_is_estimated_from_the_suites_earlier_trials(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bench.commands.MAX_TRIALS", 10)
    small = tmp_path / "twelve.yaml"
    small.write_text("problems: {linear: {steps: 5}}\noptimizers: {sgd: {lr: [0.1, 0.2, 0.3]}}\nrepeats: 4\n"
                     "telemetry: {sources: none}\n")  # fmt: skip
    results = str(tmp_path / "results")
    assert cli.main(["plan", str(small), "--results", results]) == 2
    assert (
        f"no earlier run of this suite under {results} to estimate its time from" in capsys.readouterr().err
    )
    earlier = run_cli("run", str(small), "--results", results)  # a real run, under the real limit
    assert earlier.returncode == 0, earlier.stderr
    from bench import estimate, store

    (run,) = os.listdir(os.path.join(results, "twelve"))
    times = sorted(r.wall_time_s for r in store.read_trials(os.path.join(results, "twelve", run)))
    expected = estimate.format_duration(12 * (times[5] + times[6]) / 2)  # 12 x their median
    for command in ("plan", "run"):
        assert cli.main([command, str(small), "--results", results]) == 2
        err = capsys.readouterr().err
        assert (
            f"expands to 12 trials before include/exclude, more than the limit of 10; pass --yes to plan it "
            f"anyway; estimate: {expected} at the median of this suite's earlier trials of each problem"
            in err
        ), err


@pytest.mark.parametrize("command", ["run", "plan"])
def test_a_suite_path_that_is_a_directory_exits_2_naming_it(tmp_path, capsys, command):
    folder = tmp_path / "suites.yaml"
    folder.mkdir()
    code = cli.main([command, str(folder), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and f"{folder}: a directory, not a suite file" in err and "Traceback" not in err, err
    assert not os.path.exists(tmp_path / "results")
