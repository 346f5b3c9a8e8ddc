"""`optbench compare --confirm`: before failing, re-run the regressed cells -- the baseline's
code and the candidate's, interleaved on this machine -- and fail only if the regression holds.

Users of the field do this by hand: a red benchmark job is re-run, and a regression that
does not reproduce is called noise. Two runs made hours apart on a shared machine differ as
wholes (a whole run here was 10-20% slower than the one before it), and no test over the
seeds of one run sees that. Re-running both sides in alternation (baseline, candidate,
candidate, baseline, ...) puts the machine's drift on both sides alike.

What runs each side:
* the candidate: this optbench (the code running this command);
* the baseline: ``--baseline-checkout DIR`` (a checkout of the old code, imported with this
  Python), or ``--baseline-python EXE`` (an interpreter with the old optbench installed), or by
  default the commit the baseline run recorded, checked out into a temporary git worktree of
  this optbench's own repository; when that commit is the candidate's too, this optbench.

Each side re-runs its own suite (from its run manifest; a saved baseline without one uses the
candidate's) with `include:` narrowed to the regressed cells, seeds as they were. The re-runs
are compared with the same policy; a regressed (cell, metric) stands only if the re-run says
"regressed" again. The re-runs are kept in a directory the output names.
"""

import copy
import glob
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

import bench
from bench.compare import gate, sides
from bench.compare.gate import Cell, Comparison, Verdict
from bench.compare.policy import Policy
from bench.suite_values import MATCH_KEYS

RUN_TIMEOUT_S = 3600  # one side's re-run of the regressed cells


class ConfirmError(RuntimeError):
    """The re-run could not be made; the message says why (the first verdict then stands)."""


@dataclass(frozen=True)
class Code:
    """How to run one side's optbench: a command prefix and the environment it needs."""

    label: str
    command: Tuple[str, ...]  # e.g. (python, "-m", "bench")
    pythonpath: Optional[str]  # a checkout's root, put first on sys.path; None: as installed

    def run(self, suite_path: str, results: str, run_id: str) -> None:
        env = dict(os.environ)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        argv = list(self.command) + ["run", suite_path, "--results", results, "--run-id", run_id]
        try:
            # `python -m` puts the working directory first on sys.path, before PYTHONPATH: run in
            # the checkout itself (or beside the suite), never where another bench/ could shadow it.
            done = subprocess.run(argv, env=env, cwd=self.pythonpath or os.path.dirname(suite_path), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True, timeout=RUN_TIMEOUT_S)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ConfirmError(f"{self.label}: {' '.join(argv)}: {error}") from None
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise ConfirmError(f"{self.label}: `optbench run` exited {done.returncode}: {tail}")


def _source_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(bench.__file__)))


def this_optbench() -> Code:
    return Code(f"this optbench ({_source_root()})", (sys.executable, "-m", "bench"), _source_root())


def checkout(directory: str) -> Code:
    directory = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(directory, "bench", "__main__.py")):
        raise ConfirmError(
            f"--baseline-checkout {directory}: not an optbench checkout (no bench/__main__.py)"
        )
    return Code(f"checkout {directory}", (sys.executable, "-m", "bench"), directory)


def installed(python: str) -> Code:
    return Code(f"optbench installed for {python}", (python, "-m", "bench"), None)


def _commits(side: sides.Side) -> List[str]:
    return sorted({str(m.get("git_commit")) for m in side.machines if m.get("git_commit")})


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(("git", "-C", _source_root()) + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)  # fmt: skip


class Worktree:
    """The baseline's recorded commit, checked out beside this repository for the re-run."""

    def __init__(self, commit: str, parent: str):
        self.commit, self.path = commit, os.path.join(parent, "baseline-code")
        found = _git("cat-file", "-e", commit + "^{commit}")
        if found.returncode != 0:
            raise ConfirmError(f"the baseline was made by commit {commit[:10]}, which {_source_root()} does not "
                               "have; pass --baseline-checkout DIR or --baseline-python EXE")  # fmt: skip
        added = _git("worktree", "add", "--detach", self.path, commit)
        if added.returncode != 0:
            raise ConfirmError(f"git worktree add {commit[:10]}: {added.stderr.strip()}")

    def code(self) -> Code:
        return Code(f"commit {self.commit[:10]} (a worktree at {self.path})", (sys.executable, "-m", "bench"),
                    self.path)  # fmt: skip

    def remove(self) -> None:
        _git("worktree", "remove", "--force", self.path)


def _include(side: sides.Side, keys: Sequence[str], ignore: Sequence[str]) -> List[Dict[str, object]]:
    """`include:` patterns selecting the side's cells whose match key is in ``keys``."""
    wanted, patterns = set(keys), []
    for configuration in sorted(set(side.trials["configuration"])):
        if sides.match_key(configuration, ignore) not in wanted:
            continue
        config = json.loads(configuration)
        pattern = {k: config[k] for k in MATCH_KEYS if k != "seed" and config.get(k) is not None}
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


def _suite_file(document: Dict[str, object], patterns: List[Dict[str, object]], path: str) -> str:
    narrowed = copy.deepcopy(document)
    narrowed["include"] = patterns  # the suite's own include, if any, held these cells too
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(narrowed, handle, sort_keys=True)
    return path


@dataclass(frozen=True)
class Plan:
    baseline_code: Code
    candidate_code: Code
    rounds: int
    directory: str


def _held(first: Cell, rerun: Optional[Cell]) -> Cell:
    """The cell as the re-run leaves it, its note telling both stories."""
    was = f"first run: ratio {first.ratio:.3f}" if first.ratio is not None else "first run: regressed"
    if rerun is None:
        return replace(first, verdict=Verdict.INSUFFICIENT, note=f"{was}; the re-run did not measure it")
    if rerun.verdict == Verdict.INSUFFICIENT:  # e.g. the machine was busy during the re-run
        return replace(rerun, note=f"the re-run could not judge it ({was}): {rerun.note}")
    held = "held on the re-run" if rerun.verdict == Verdict.REGRESSED else "did not hold on the re-run"
    return replace(rerun, note=f"{held} ({was}){'; ' + rerun.note if rerun.note else ''}")


def confirm(comparison: Comparison, baseline: sides.Side, candidate: sides.Side, policy: Policy,
            plan: Plan, out=sys.stderr) -> Comparison:  # fmt: skip
    """``comparison`` with each regressed cell replaced by its re-run's verdict."""
    regressed = [c for c in comparison.cells if c.verdict == Verdict.REGRESSED]
    if not regressed:
        return comparison
    keys = sorted({c.match for c in regressed})
    documents = {"baseline": baseline.suite_document or candidate.suite_document,
                 "candidate": candidate.suite_document}  # fmt: skip
    for name, document in documents.items():
        if not document:
            raise ConfirmError(
                f"the {name} has no suite in its manifest to re-run (a pytest-benchmark file?)"
            )
    os.makedirs(plan.directory, exist_ok=True)
    suites = {
        "baseline": _suite_file(documents["baseline"], _include(baseline, keys, policy.ignore),
                                os.path.join(plan.directory, "baseline-suite.yaml")),
        "candidate": _suite_file(documents["candidate"], _include(candidate, keys, policy.ignore),
                                 os.path.join(plan.directory, "candidate-suite.yaml")),
    }  # fmt: skip
    codes = {"baseline": plan.baseline_code, "candidate": plan.candidate_code}
    made = {"baseline": [], "candidate": []}  # type: Dict[str, List[str]]
    for round_ in range(plan.rounds):
        # ABBA: the side that goes first alternates, so a steady drift weighs on both alike.
        order = ("baseline", "candidate") if round_ % 2 == 0 else ("candidate", "baseline")
        for name in order:
            out.write(f"confirm: round {round_ + 1} of {plan.rounds}, {name} ({codes[name].label})\n")
            results, run_id = os.path.join(plan.directory, name), f"round-{round_ + 1}"
            codes[name].run(suites[name], results, run_id)
            made[name].append(_run_dir(results, run_id))
    rerun = gate.compare(sides.from_runs(made["baseline"]), sides.from_runs(made["candidate"]), policy)
    by_pair = {(c.match, c.metric): c for c in rerun.cells}
    cells = tuple(
        _held(c, by_pair.get((c.match, c.metric))) if c.verdict == Verdict.REGRESSED else c
        for c in comparison.cells
    )
    held = sum(c.verdict == Verdict.REGRESSED for c in cells if c.match in keys)
    notes = comparison.notes + (
        f"confirm: {len(regressed)} regressed cells re-run in {plan.rounds} interleaved rounds a side "
        f"(baseline: {plan.baseline_code.label}; candidate: {plan.candidate_code.label}); "
        f"{held} held; the re-runs are in {plan.directory}",
    )
    if plan.rounds == 1:
        notes += (
            "confirm: one round a side is one more pair of whole runs, and whole runs drift apart (by up to "
            "20% on a shared machine): it can clear a real regression; two rounds or more (the default) "
            "interleave the sides so that the drift weighs on both",
        )
    if rerun.not_comparable:
        notes += ("confirm: the re-runs are not comparable: " + "; ".join(rerun.not_comparable),)
    verdict = gate.overall(cells, comparison.not_comparable, comparison.unmatched[0])
    return replace(comparison, cells=cells, verdict=verdict, notes=notes)


def _run_dir(results: str, run_id: str) -> str:
    """results/<suite>/<run_id>: the suite's name is whatever its document says."""
    found = glob.glob(os.path.join(glob.escape(results), "*", run_id))
    if len(found) != 1:
        raise ConfirmError(f"{results}: expected one run named {run_id}, found {len(found)}")
    return found[0]


def make_plan(baseline: sides.Side, candidate: sides.Side, rounds: int, directory: Optional[str],
              baseline_checkout: Optional[str], baseline_python: Optional[str]):  # fmt: skip
    """(the plan, and a worktree to remove afterwards or None)."""
    if rounds < 1:
        raise ConfirmError(f"--confirm {rounds}: the number of rounds is at least 1")
    directory = os.path.abspath(directory or tempfile.mkdtemp(prefix="optbench-confirm-"))
    worktree = None
    if baseline_checkout:
        code = checkout(baseline_checkout)
    elif baseline_python:
        code = installed(baseline_python)
    else:
        base, cand = _commits(baseline), _commits(candidate)
        if len(base) != 1:
            raise ConfirmError("the baseline's runs recorded {} commits ({}); pass --baseline-checkout DIR or "
                               "--baseline-python EXE".format(len(base), ", ".join(c[:10] for c in base) or "none"))  # fmt: skip
        if base == cand:
            code = this_optbench()  # the same code: only the machine can have moved
        else:
            worktree = Worktree(base[0], directory)
            code = worktree.code()
    return Plan(code, this_optbench(), rounds, directory), worktree
