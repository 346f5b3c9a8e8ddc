"""What an installed optbench carries and loads: the device half stays light, and the shipped
suites are found by name from any directory.

Runs on the Nano's stack too (Python 3.6, pytest 7.0): no newer features.
"""

import os
import subprocess
import sys
import textwrap

from conftest import ROOT

# The analysis half's libraries, and scikit-learn (which pulls in scipy, and pandas when
# installed): seconds and ~100 MB on a 4 GB Jetson, so `optbench run` must load none of them.
HEAVY = ("pandas", "scipy", "sklearn", "seaborn", "matplotlib", "bench.analysis")

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
