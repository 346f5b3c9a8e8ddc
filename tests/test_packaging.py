"""What an installed optbench carries and loads: the device half stays light, and the shipped
suites are found by name from any directory.

Runs on the Nano's stack too (Python 3.6, pytest 7.0): no newer features.
"""

import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import pytest
from conftest import ROOT, run_cli

from bench.suite import SHIPPED_SUITES, suite_by_name, suite_names
from bench.validation import SuiteError

# The analysis half's libraries, and scikit-learn (which pulls in scipy, and pandas when
# installed): seconds and ~100 MB on a 4 GB Jetson, so `optbench run` must load none of them.
# TensorFlow and Keras (5 s to import here) load only for a trial of implementation tensorflow.
HEAVY = (
    "pandas", "scipy", "sklearn", "seaborn", "matplotlib", "jinja2", "bench.analysis", "bench.report",
    "tensorflow", "keras",
)  # fmt: skip

TINY_LENET = """\
problems:
  lenet: {batch: 16, options: {train_size: 64, test_size: 32}}
optimizers: {sgd: {lr: 0.01}}
budget: {steps: 3, eval_every: 3}
seeds: [0]
"""


def python(code, cwd, timeout=300):
    """Run ``python -c CODE`` with the checkout importable, as run_cli does."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS="default")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=timeout,
    )


def test_a_run_imports_none_of_the_analysis_libraries(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_LENET)
    done = python(
        """
        import sys
        from bench.cli import main

        code = main(["run", "tiny.yaml", "--results", "results"])
        heavy = {}
        loaded = sorted({h for n in sys.modules for h in heavy if n == h or n.startswith(h + ".")})
        print("exit", code)
        print("loaded:", " ".join(loaded))
        """.replace("{}", repr(HEAVY)),
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "exit 0" in done.stdout, done.stdout + done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("loaded:")]
    assert line.split()[1:] == [], "`optbench run` imported " + line
    assert os.listdir(str(tmp_path / "results" / "tiny"))  # it did run the trial


# --- shipped suites -------------------------------------------------------------------------

SHIPPED = ("gradienttape", "landscapes", "nightly-nano", "smoke", "tutorial")
IN_SDIST = os.path.exists(os.path.join(ROOT, "PKG-INFO"))  # tests run from an unpacked sdist


def test_the_checkouts_suites_directory_is_the_shipped_one():
    """One copy of each suite: top-level suites/ links to bench/suites/, which the wheel carries."""
    top = os.path.join(ROOT, "suites")
    if IN_SDIST:  # copies, not a link
        for name in SHIPPED:
            with open(os.path.join(top, name + ".yaml"), "rb") as a, open(
                os.path.join(SHIPPED_SUITES, name + ".yaml"), "rb"
            ) as b:
                assert a.read() == b.read()
    else:
        assert os.path.islink(top) and os.path.samefile(top, SHIPPED_SUITES)
    assert os.path.join(ROOT, "bench", "suites") == SHIPPED_SUITES
    assert suite_names(SHIPPED_SUITES) == list(SHIPPED)


def test_a_path_wins_then_the_local_suites_directory_then_the_shipped_suite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = os.path.join(SHIPPED_SUITES, "smoke.yaml")
    assert suite_by_name("smoke") == shipped  # no ./suites here
    (tmp_path / "smoke").mkdir()  # a directory of that name is not a suite file
    assert suite_by_name("smoke") == shipped
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "smoke.yaml").write_text(TINY_LENET)
    assert suite_by_name("smoke") == os.path.join("suites", "smoke.yaml")
    assert suite_by_name("tutorial") == os.path.join(SHIPPED_SUITES, "tutorial.yaml")
    (tmp_path / "mine.yaml").write_text(TINY_LENET)
    assert suite_by_name("mine.yaml") == "mine.yaml"
    (tmp_path / "smoke").rmdir()
    (tmp_path / "smoke").write_text(TINY_LENET)  # a file named as the suite: a path wins
    assert suite_by_name("smoke") == "smoke"
    # A path that names no file never falls back to a shipped suite.
    with pytest.raises(SuiteError) as caught:
        suite_by_name(os.path.join("elsewhere", "smoke.yaml"))
    (message,) = caught.value.problems
    assert message.startswith(os.path.join("elsewhere", "smoke.yaml") + ": no such suite file;")


def test_an_unknown_name_lists_the_shipped_suites_and_suggests_the_nearest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./suites
    with pytest.raises(SuiteError) as caught:
        suite_by_name("smokey")
    (message,) = caught.value.problems
    assert message == (
        "smokey: no such suite file (nor suites/smokey.yaml, nor a suite of that name shipped with "
        "optbench); shipped with optbench: gradienttape, landscapes, nightly-nano, smoke, tutorial (did you mean 'smoke'?)"
    )
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "nightly.yaml").write_text(TINY_LENET)
    with pytest.raises(SuiteError) as caught:
        suite_by_name("nightl")
    (message,) = caught.value.problems
    assert message.endswith(
        "; suites in suites/: nightly; shipped with optbench: gradienttape, landscapes, nightly-nano, smoke, tutorial (did you mean 'nightly'?)"
    )
    with pytest.raises(SuiteError) as caught:
        suite_by_name("smoke", search="suites", shipped=str(tmp_path / "nothing"))
    (message,) = caught.value.problems
    assert "suites in suites/: nightly" in message and "shipped" not in message.split(";", 1)[1]


@pytest.mark.skipif(IN_SDIST, reason="an unpacked sdist's suites/ holds copies, not the shipped directory")
def test_in_the_checkout_the_suites_are_listed_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SuiteError) as caught:
        suite_by_name("tutorail")
    (message,) = caught.value.problems
    assert message.endswith(
        "; suites in suites/ (shipped with optbench): gradienttape, landscapes, nightly-nano, smoke, tutorial (did you mean 'tutorial'?)"
    )


def test_list_names_the_shipped_suites_and_plan_finds_them_from_anywhere(tmp_path):
    listed = run_cli("list", cwd=str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    tail = listed.stdout.split("suites shipped with optbench", 1)[1]
    assert "\n  smoke         every problem and optimizer once, tiny budgets\n" in tail
    assert "\n  tutorial      The classic PyTorch tutorial problems under every optimizer:" in tail
    planned = run_cli("plan", "smoke", cwd=str(tmp_path))
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith(
        "suite smoke ({}): 77 trials\n".format(os.path.join(SHIPPED_SUITES, "smoke.yaml"))
    )
    default = run_cli("plan", cwd=str(tmp_path))  # the default suite is the name `tutorial`
    assert default.returncode == 0, default.stderr
    assert default.stdout.startswith(
        "suite tutorial ({}): ".format(os.path.join(SHIPPED_SUITES, "tutorial.yaml"))
    )
    unknown = run_cli("plan", "tutorail", cwd=str(tmp_path))
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert (
        "shipped with optbench: gradienttape, landscapes, nightly-nano, smoke, tutorial (did you mean 'tutorial'?)"
        in unknown.stderr
    )


# --- what the wheel and the sdist carry ------------------------------------------------------

PACKAGE_DATA = (
    "bench/data/digits.csv.gz",
    "bench/data/README.md",
    "bench/suites/landscapes.yaml",
    "bench/suites/smoke.yaml",
    "bench/suites/tutorial.yaml",
    "bench/report/templates/report.html.j2",  # the report's page, read at run time
)


def test_the_wheel_carries_the_digits_the_suites_and_the_report_template(tmp_path):
    """Built as pip builds it (flit_core in an isolated environment), then listed."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), ROOT],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=300,
    )
    if built.returncode and "No matching distribution found for flit" in built.stdout:
        pytest.skip("no package index here to fetch flit_core from: " + built.stdout[-300:])
    assert built.returncode == 0, built.stdout
    (wheel,) = [f for f in os.listdir(str(tmp_path)) if f.endswith(".whl")]
    with zipfile.ZipFile(str(tmp_path / wheel)) as archive:
        names = set(archive.namelist())
        for name in PACKAGE_DATA:
            assert name in names
            with open(os.path.join(ROOT, name), "rb") as original:
                assert archive.read(name) == original.read()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert not any(n.startswith("suites/") for n in names)
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requires if "scikit-learn" in r and "extra ==" not in r], requires


def test_the_sdist_carries_the_suites_in_both_places(tmp_path):
    """Its top-level suites/ holds copies (flit follows the link), so the tests run from it."""
    buildapi = pytest.importorskip("flit_core.buildapi")
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        sdist = buildapi.build_sdist(str(tmp_path))
    finally:
        os.chdir(here)
    with tarfile.open(str(tmp_path / sdist)) as archive:
        names = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if "/" in m.name}
    for name in PACKAGE_DATA + tuple(f"suites/{suite}.yaml" for suite in SHIPPED):
        assert name in names and names[name].isfile(), name
