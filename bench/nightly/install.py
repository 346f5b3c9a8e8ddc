"""`optbench nightly SUITE --install-timer` and `--uninstall-timer`: write (or remove) the
systemd units of bench.nightly.timer, with tonight's options baked into the service's command
line, and say what to run next (systemctl needs root; the units can be written anywhere)."""

import getpass
import os
import pwd
import shutil
import subprocess
import sys
from typing import List, Optional, Tuple

from bench.nightly import night, timer

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _error(message: str) -> int:
    sys.stderr.write(f"optbench nightly: error: {message}\n")
    return EXIT_BAD_INPUT


def _absolute(path: Optional[str]) -> Optional[str]:
    return os.path.abspath(path) if path else None


def options_of(args) -> List[Tuple[str, Optional[str]]]:
    """The nightly options the unit's command repeats every night; paths made absolute, as
    the service starts in its working directory, not in the one you typed this in."""
    baseline = args.baseline
    if baseline and (os.sep in baseline or baseline.endswith(".json")):
        baseline = os.path.abspath(baseline)
    options = [("--results", _absolute(args.results)), ("--reports", _absolute(args.reports)),
               ("--baselines", _absolute(args.baselines))]  # type: List[Tuple[str, Optional[str]]]  # fmt: skip
    for flag, value in (("--baseline", baseline), ("--policy", _absolute(args.policy)), ("--until", args.until),
                        ("--budget", args.budget), ("--require-power-mode", args.require_power_mode),
                        ("--telemetry", args.telemetry)):  # fmt: skip
        if value:
            options.append((flag, value))
    options.append(("--keep", str(args.keep)))
    if args.skip_missing_devices:
        options.append(("--skip-missing-devices", None))
    return options


def privileged(user: str) -> bool:
    """Root by name, or a name this machine maps to uid 0. A user this machine does not know is
    not refused: the units may be written here for a board (--unit-dir)."""
    if user == "root":
        return True
    try:
        return pwd.getpwnam(user).pw_uid == 0
    except KeyError:
        return False


# What --report-only needs of the night's options: where the results, reports and baselines
# are, what to compare with, and the retention policy it applies again.
ANALYSIS_OPTIONS = ("--results", "--reports", "--baselines", "--baseline", "--policy", "--keep")


def schedule_of(args, suite: str) -> timer.Schedule:
    user = args.user or os.environ.get("SUDO_USER") or getpass.getuser()
    log = os.path.abspath(args.log or os.path.join("logs", f"nightly-{os.path.basename(suite)}.log"))
    options = options_of(args)
    analysis = [(flag, value) for flag, value in options if flag in ANALYSIS_OPTIONS]
    return timer.Schedule(
        suite, sys.executable, timer.forwarded(options), user, os.getcwd(), log, args.at,
        _absolute(args.analysis_python), timer.forwarded(analysis),
    )  # fmt: skip


def analysis_python_problem(python: str) -> Optional[str]:
    """Why ``python`` cannot run the night's analysis steps (None when it can), asked of that
    Python itself, now rather than on the first morning."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return "not an executable file"
    ask = "from bench.nightly.analysis_gate import missing; import sys; sys.stdout.write(missing() or '')"
    try:
        done = subprocess.run([python, "-c", ask], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        return f"could not run it: {error}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"it cannot import optbench ({last}): pip install '.[report]' into it"
    return done.stdout.strip() or None


def install_command(args) -> int:
    from bench.suite import load_suite, suite_by_name
    from bench.validation import SuiteError

    try:
        night.parse_until(args.at, "--at")
        if args.until:
            night.parse_until(args.until)
        if args.budget:
            night.parse_budget(args.budget)
        path = os.path.abspath(suite_by_name(args.suite))
        load_suite(path)
    except night.NightError as error:
        return _error(str(error))
    except SuiteError as error:
        return _error("the suite cannot be used:\n  " + "\n  ".join(error.problems))
    # A shipped suite by its name; any other by its absolute path (the service's directory differs).
    suite = args.suite if os.path.dirname(os.path.realpath(path)) == os.path.realpath(_shipped()) else path
    if args.analysis_python:
        problem = analysis_python_problem(os.path.abspath(args.analysis_python))
        if problem:
            return _error(f"--analysis-python {args.analysis_python}: {problem}")
    schedule = schedule_of(args, suite)
    if privileged(schedule.user):
        # The night trains and writes results for hours: as an unprivileged user in the jtop
        # group, which is all jtop's socket needs (docs/NIGHTLY.md).
        return _error(f"--user {schedule.user}: the night runs as an unprivileged user in the jtop group, not as "
                      "root; name one with --user (e.g. --user nano), or run the installer with sudo from that "
                      "user's shell")  # fmt: skip
    try:
        paths = timer.install(schedule, args.unit_dir)
    except PermissionError as error:
        return _error(
            f"{error.filename}: permission denied; run with sudo, or write the units elsewhere with --unit-dir DIR"
        )
    out = sys.stdout
    out.write("wrote " + " and ".join(paths) + "\n")
    out.write(
        f"the night runs as {schedule.user} (group jtop), in {schedule.workdir}, logging to {schedule.log}:\n"
    )
    out.write("  " + schedule.shell_command() + "\n")
    if schedule.analysis_python:
        out.write("then, when the night exits 0, the report, compare and history by the second Python:\n")
        out.write("  " + str(schedule.analysis_command()) + "\n")
    out.write(
        f"enable it:  sudo systemctl daemon-reload && sudo systemctl enable --now {schedule.name}.timer\n"
    )
    out.write(
        f"check it:   systemctl list-timers {schedule.name}.timer; journalctl -u {schedule.name}.service\n"
    )
    out.write("or, with cron instead (crontab -e as that user; no catch-up after a night powered off):\n")
    out.write("  " + timer.cron_line(schedule) + "\n")
    return EXIT_OK


def _shipped() -> str:
    from bench.suite import SHIPPED_SUITES

    return SHIPPED_SUITES


def uninstall_command(args) -> int:
    name = timer.unit_name(args.suite)
    systemctl = shutil.which("systemctl")
    default = os.path.abspath(args.unit_dir) == timer.DEFAULT_UNIT_DIR
    if default and systemctl:
        # stop and disable while the unit files still exist, so systemctl can find them
        subprocess.call([systemctl, "disable", "--now", name + ".timer"])
    try:
        removed = timer.uninstall(name, args.unit_dir)
    except PermissionError as error:
        return _error(f"{error.filename}: permission denied; run with sudo")
    if not removed:
        return _error(f"no units named {name}.service or {name}.timer in {args.unit_dir}")
    sys.stdout.write("removed " + " and ".join(removed) + "\n")
    if default and systemctl:
        subprocess.call([systemctl, "daemon-reload"])
    return EXIT_OK
