"""The command line: `optbench run | plan | list | show | report | compare | baseline |
history | nightly` (also `python -m bench`).

Exit codes: 0 done (failed trials are data, not a failed run); 2 bad input (a suite,
a device, a data set or a results directory that cannot be used); 130 interrupted (Ctrl-C);
143 terminated (SIGTERM), handled alike: every finished trial is kept.
"""

import argparse
import importlib
import os
import sys
import warnings
from typing import List, Optional

from bench import __version__
from bench.entry import EXIT_INTERRUPTED, EXIT_TERMINATED, handle_sigterm, held, stopped  # noqa: F401
from bench.heap import collector_paused
from bench.telemetry import registry as telemetry_registry

EXIT_OK, EXIT_BAD_INPUT = 0, 2


# The device commands' modules import torch (about 2 s here, longer on a Nano): imported first,
# with Ctrl-C and SIGTERM held until they are in (bench.entry.held) and the garbage collector
# paused (bench.heap: a third of the import's CPU).
HEAVY_IMPORTS = {"run": "bench.commands", "plan": "bench.commands", "list": "bench.commands",
                 "nightly": "bench.nightly.command"}  # fmt: skip
# The analysis commands' libraries, the same way where they are installed; where one is not,
# the command itself says what to install (bench.analysis.MISSING_MESSAGE).
ANALYSIS_IMPORTS = {"show": ("pandas",), "report": ("pandas", "matplotlib", "bench.report.build"),
                    "compare": ("pandas", "bench.compare.gate"), "baseline": ("pandas",),
                    "history": ("pandas",)}  # fmt: skip

# A name: ./suites/tutorial.yaml where there is one, else the tutorial shipped with optbench.
DEFAULT_SUITE = "tutorial"
SUITE_HELP = (
    "a suite file, or a suite name: ./suites/NAME.yaml if there is one, else the suite of that name "
    "shipped with optbench (`optbench list` names them); default: %(default)s"
)

YES_HELP = "plan a suite that expands to more trials than the limit (100,000) anyway"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optbench", description="Benchmark PyTorch optimizers on the classic tutorial problems."
    )
    parser.add_argument("--version", action="version", version="optbench " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a suite's trials and record them")
    run.add_argument("suite", nargs="?", default=DEFAULT_SUITE, help=SUITE_HELP)
    run.add_argument("--results", default="results", help="results root (default: %(default)s)")
    run.add_argument("--run-id", help="write to (or resume) results/<suite>/RUN_ID")
    run.add_argument("--new", action="store_true", help="start a new run even if the last one is unfinished")
    run.add_argument(
        "--resume", action="store_true", help="resume the last run (the default when it is unfinished)"
    )
    run.add_argument(
        "--telemetry", metavar="SOURCES",
        help="override the suite's telemetry sources: auto, none, or a comma list of " + ", ".join(telemetry_registry.NAMES),
    )  # fmt: skip
    run.add_argument("--yes", action="store_true", help=YES_HELP)
    run.add_argument(
        "--skip-missing-devices", action="store_true",
        help="record trials on absent devices (cuda without a GPU) as skipped instead of refusing to start",
    )  # fmt: skip
    _executor_options(run)

    plan = commands.add_parser("plan", help="show what a suite expands to, without running it")
    plan.add_argument("suite", nargs="?", default=DEFAULT_SUITE, help=SUITE_HELP)
    plan.add_argument("--results", default="results", help="where earlier runs are (for the estimate)")
    plan.add_argument("--trials", action="store_true", help="list every trial")
    plan.add_argument("--yes", action="store_true", help=YES_HELP)

    commands.add_parser("list", help="list the problems, optimizers, activations and implementations")

    show = commands.add_parser(
        "show", help="summarise a results directory over seeds (needs optbench[report])"
    )
    show.add_argument("run_dir", help="results/<suite>/<run-id>")
    show.add_argument("--all", action="store_true", help="every configuration, not just the best per problem")

    report = commands.add_parser(
        "report",
        help="write the comparison report of a run: HTML, Markdown, CSV, figures (needs optbench[report])",
    )
    report.add_argument("run_dir", help="results/<suite>/<run-id>, or results/<suite> for its latest run")
    report.add_argument("--out", help="where to write it (default: reports/<suite>/<run-id>)")
    report.add_argument(
        "--baseline", metavar="RUN_DIR", help="a run to compare with: its curves dashed, ratios to it"
    )
    _compare_parsers(commands)
    _nightly_parser(commands)
    return parser


def _executor_options(run) -> None:
    """Where the trials run (docs/DISTRIBUTED.md); each overrides the suite's ``executor:``."""
    run.add_argument(
        "--executor", choices=["local", "dask"],
        help="local: in this process, one trial at a time (the default, the only fair timing); "
        "dask: on dask.distributed workers (needs optbench[dask])",
    )  # fmt: skip
    run.add_argument(
        "--jobs", type=int, metavar="N",
        help="local: N worker processes at once (convergence only: every record is marked timing_shared: "
        "contended); dask without --scheduler: a LocalCluster of N workers",
    )  # fmt: skip
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on this dask scheduler's workers (tcp://HOST:8786); implies --executor dask"
    )  # fmt: skip
    run.add_argument(
        "--allow-mismatch", action="store_true",
        help="dask: let workers whose Python, torch or optbench version differs from this one run trials (a warning, not an error)",
    )  # fmt: skip


def _nightly_parser(commands) -> None:
    nightly = commands.add_parser(
        "nightly",
        help="one night of a suite: run it (in a time window), report, compare, summarise (exit 1 if it regressed)",
    )
    nightly.add_argument("suite", help=SUITE_HELP.replace("; default: %(default)s", ""))
    nightly.add_argument("--results", default="results", help="results root (default: %(default)s)")
    nightly.add_argument("--reports", default="reports", help="reports root (default: %(default)s)")
    nightly.add_argument(
        "--baseline", help="compare with this: a saved baseline's NAME, a .json, or a run directory"
    )
    nightly.add_argument(
        "--baselines", default="baselines", help="where saved baselines are (default: %(default)s)"
    )
    nightly.add_argument("--policy", metavar="FILE", help="the compare policy (YAML: alpha, checks, ...)")
    nightly.add_argument(
        "--until",
        metavar="HH:MM",
        help="the window ends at this local time: start no trial that would overrun it",
    )
    nightly.add_argument(
        "--budget",
        metavar="DURATION",
        help="the window lasts this long from the night's start (5h, 90m, ...)",
    )
    nightly.add_argument(
        "--require-power-mode",
        metavar="MODE",
        help="refuse to run unless the board (and the baseline) is in this nvpmodel mode (name or id)",
    )
    nightly.add_argument(
        "--keep",
        type=int,
        default=14,
        metavar="N",
        help="keep the newest N nightly runs whole; prune older curves (default: %(default)s)",
    )
    nightly.add_argument(
        "--new", action="store_true", help="start a new run even if this night already has one"
    )
    nightly.add_argument(
        "--report-only",
        action="store_true",
        help="do not run: report, compare and summarise the latest nightly run (on a workstation)",
    )
    nightly.add_argument("--run-id", help="with --report-only: this run instead of the latest")
    nightly.add_argument(
        "--telemetry", metavar="SOURCES", help="override the suite's telemetry sources (as for run)"
    )
    nightly.add_argument(
        "--skip-missing-devices", action="store_true", help="record trials on absent devices as skipped"
    )
    nightly.add_argument(
        "--now", metavar="YYYY-MM-DDTHH:MM", help="take this local time as the start (tests, replays)"
    )
    nightly.add_argument(
        "--clock",
        choices=["wall", "estimate"],
        default="wall",
        help="the window's clock: wall time, or each trial's estimate (tests; docs/NIGHTLY.md)",
    )
    nightly.add_argument(
        "--install-timer", action="store_true", help="write a systemd service and timer for this night"
    )
    nightly.add_argument(
        "--uninstall-timer", action="store_true", help="remove the suite's systemd service and timer"
    )
    nightly.add_argument(
        "--at",
        default="22:00",
        metavar="HH:MM",
        help="with --install-timer: start time (default: %(default)s)",
    )
    nightly.add_argument(
        "--unit-dir", default="/etc/systemd/system", help="where the units go (default: %(default)s)"
    )
    nightly.add_argument(
        "--user", help="with --install-timer: the user the night runs as (default: you, or SUDO_USER)"
    )
    nightly.add_argument(
        "--log", help="with --install-timer: the log file (default: logs/nightly-SUITE.log here)"
    )
    nightly.add_argument(
        "--analysis-python",
        metavar="EXE",
        help="with --install-timer: after the night, this Python (>= 3.8, with optbench[report]) runs "
        "--report-only (the board's second environment, docs/NIGHTLY.md)",
    )


def _compare_parsers(commands) -> None:
    compare = commands.add_parser(
        "compare", help="did the candidate get slower, worse or hungrier than the baseline? (exit 1 if so)"
    )
    compare.add_argument("baseline", help="a run directory, results/<suite> (its latest run), a saved baseline's "
                         "NAME, or several run directories separated by commas (a window)")  # fmt: skip
    compare.add_argument("candidate", help="the same forms as the baseline")
    compare.add_argument("--check", action="append", default=[], metavar="METRIC:EFFECT",
                         help="check METRIC with this minimum effect, e.g. step_time:5%% (repeatable)")  # fmt: skip
    compare.add_argument("--alpha", type=float, help="significance level of the rank test (default 0.01)")
    compare.add_argument("--policy", metavar="FILE", help="a YAML policy: alpha, checks, allow_different")
    compare.add_argument("--allow-different", action="append", default=[], metavar="FIELD",
                         help="compare even though this machine field differs (e.g. torch)")  # fmt: skip
    compare.add_argument("--ignore", action="append", default=[], metavar="KEY",
                         help="match cells without this configuration key (e.g. lr: a changed default)")  # fmt: skip
    compare.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    compare.add_argument("--normalise-by-canary", action="store_true",
                         help="divide the candidate's time metrics by the drift canary's ratio before the test")  # fmt: skip
    compare.add_argument("--all", action="store_true", help="list every cell, not only the ones that changed")
    compare.add_argument("--github-json", metavar="FILE",
                         help="also write github-action-benchmark's customSmallerIsBetter file")  # fmt: skip
    compare.add_argument(
        "--baselines", default="baselines", help="where saved baselines are (default: %(default)s)"
    )
    compare.add_argument("--confirm", type=int, nargs="?", const=2, default=0, metavar="ROUNDS",
                         help="before failing, re-run the regressed cells, baseline and candidate code "
                         "interleaved, ROUNDS times a side (default 2), and fail only if it holds")  # fmt: skip
    compare.add_argument("--baseline-checkout", metavar="DIR",
                         help="--confirm: the baseline's code is this checkout (default: the commit its run recorded)")  # fmt: skip
    compare.add_argument("--baseline-python", metavar="EXE",
                         help="--confirm: the baseline's code is the optbench installed for this interpreter")  # fmt: skip
    compare.add_argument("--confirm-dir", metavar="DIR",
                         help="--confirm: keep the re-runs here (default: a new temporary directory)")  # fmt: skip

    baseline = commands.add_parser(
        "baseline", help="save or list named baselines (small, committable summaries)"
    )
    actions = baseline.add_subparsers(dest="baseline_command", metavar="ACTION")
    save = actions.add_parser("save", help="save a run (or a window of runs) as a named baseline")
    save.add_argument("runs", nargs="+", help="run directories (or results/<suite> for its latest run)")
    save.add_argument("--name", required=True, help="the baseline's name (baselines/NAME.json)")
    save.add_argument("--baselines", default="baselines", help="where to keep it (default: %(default)s)")
    listing = actions.add_parser("list", help="list the saved baselines")
    listing.add_argument("--baselines", default="baselines", help="where they are (default: %(default)s)")

    history = commands.add_parser(
        "history",
        help="every run of a suite as series: steps and slow creep flagged (exit 1 on a regression)",
    )
    history.add_argument("results", help="a results directory (results/) or one suite's (results/<suite>)")
    history.add_argument("--suite", help="the suite, when RESULTS holds several")
    history.add_argument("--format", choices=["text", "markdown", "json"], default="text")


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """One plain line per warning (Python 3.6 passes ``line`` by keyword)."""
    return f"warning: {message}\n"


def _import_heavy(command: str) -> None:
    """The command's heavy modules, before anything else (HEAVY_IMPORTS, ANALYSIS_IMPORTS)."""
    if command in HEAVY_IMPORTS:
        importlib.import_module(HEAVY_IMPORTS[command])
    for module in ANALYSIS_IMPORTS.get(command, ()):
        try:
            importlib.import_module(module)
        except ImportError:
            return


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return EXIT_BAD_INPUT
    warnings.formatwarning = _format_warning
    handle_sigterm()  # again: main() may be called without bench.entry (tests, in-process)
    try:
        with held(), collector_paused():  # held: bench.entry.held says why; paused: bench.heap
            _import_heavy(args.command)
        if args.command == "list":
            from bench.commands import list_command

            return list_command()
        if args.command == "plan":
            from bench.commands import plan_command

            return plan_command(args.suite, args.results, args.trials, args.yes)
        if args.command == "show":
            from bench.analysis_commands import show_command

            return show_command(args.run_dir, args.all)
        if args.command == "report":
            from bench.analysis_commands import report_command

            return report_command(args.run_dir, args.out, args.baseline)
        if args.command == "compare":
            from bench.analysis_commands import compare_command

            return compare_command(args)
        if args.command == "baseline":
            from bench.analysis_commands import baseline_command

            return baseline_command(args)
        if args.command == "nightly":
            from bench.nightly.command import nightly_command

            return nightly_command(args)
        if args.command == "history":
            from bench.compare.history_command import history_command

            return history_command(args.results, args.suite, args.format)
        from bench.commands import run_command

        return run_command(args)
    except BrokenPipeError:
        # The reader went away (`optbench plan ... | head`): not an error worth a traceback.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- so the exit's flush stays quiet
        return EXIT_OK
    except KeyboardInterrupt as stop:
        return stopped(stop)
    except ImportError as error:
        # The analysis half asked for on a Python without it (a Nano's 3.6): where compare,
        # baseline save or history first reach for pandas, say what to install, no traceback.
        from bench.analysis import MISSING_MESSAGE

        if MISSING_MESSAGE not in str(error):
            raise
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
