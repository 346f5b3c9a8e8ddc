"""The schedule: a systemd service and timer (and a cron line) that run `optbench nightly`.

The service runs as an unprivileged user with the ``jtop`` group (the jtop socket is readable
by root and that group only), in a stated working directory, appending to a stated log; the
timer starts it every day at a set time, and ``Persistent=true`` starts a night missed while
the board was off at the next boot. The command line is this Python running ``-m bench``, so
the service uses the environment optbench is installed in, with no PATH to get right.
"""

import os
import re
import shlex
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

DEFAULT_UNIT_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class Schedule:
    suite: str
    python: str  # absolute path of the interpreter optbench is installed in
    arguments: Tuple[str, ...]  # after `-m bench nightly SUITE`: --results ABS, --until ..., ...
    user: str
    workdir: str  # absolute
    log: str  # absolute
    at: str  # HH:MM, local time
    # Arrangement (a) (docs/NIGHTLY.md): a second Python on the board, >= 3.8 with the report
    # extra, runs `--report-only` after the night, with these options; None: the night alone.
    analysis_python: Optional[str] = None
    analysis_arguments: Tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "optbench-nightly-" + re.sub(r"[^A-Za-z0-9_.-]", "-", self.suite)

    def argv(self) -> List[str]:
        return [self.python, "-m", "bench", "nightly", self.suite] + list(self.arguments)

    def analysis_argv(self) -> List[str]:
        return [str(self.analysis_python), "-m", "bench", "nightly", self.suite, "--report-only"] + list(
            self.analysis_arguments
        )

    def _logged(self, argv: List[str]) -> str:
        """A command line as a shell runs it: from the working directory, appending to the log
        (a plain redirection works on every systemd, including 18.04's 237, which has no
        StandardOutput=append:)."""
        return "cd {} && {} >> {} 2>&1".format(
            shlex.quote(self.workdir), " ".join(shlex.quote(a) for a in argv), shlex.quote(self.log)
        )

    def shell_command(self) -> str:
        """The night's command line."""
        return self._logged(self.argv())

    def analysis_command(self) -> Optional[str]:
        """The report, compare and history by the second Python, or None (arrangement (b), or a
        night on a Python that has the analysis half)."""
        return self._logged(self.analysis_argv()) if self.analysis_python else None


def _systemd_escape(text: str) -> str:
    # systemd expands %-specifiers and $VARIABLES in ExecStart= itself
    return text.replace("%", "%%").replace("$", "$$")


def service_unit(s: Schedule) -> str:
    return "\n".join([
        "# Written by `optbench nightly --install-timer` (docs/NIGHTLY.md).",
        "[Unit]",
        f"Description=optbench nightly run of suite {s.suite}",
        # the jtop service serves the telemetry; without it the night still runs (and says so)
        "Wants=jtop.service",
        "After=jtop.service",
        "",
        "[Service]",
        "Type=oneshot",
        f"User={s.user}",
        "SupplementaryGroups=jtop",
        f"WorkingDirectory={s.workdir}",
        # the exit code is the verdict: 1 (a regression) and 3 (not comparable) leave the unit failed
        "ExecStart=/bin/sh -c " + _systemd_escape(shlex.quote(s.shell_command())),
    ] + ([
        # run only when the night exits 0; its own exit code (the verdict) then decides the unit's
        "ExecStartPost=/bin/sh -c " + _systemd_escape(shlex.quote(str(s.analysis_command()))),
    ] if s.analysis_python else []) + [
        "Nice=0",
        # a night can last until its window ends; never killed for taking long
        "TimeoutStartSec=infinity",
        "",
    ])  # fmt: skip


def timer_unit(s: Schedule) -> str:
    hour, minute = s.at.split(":")
    return "\n".join([
        "# Written by `optbench nightly --install-timer` (docs/NIGHTLY.md).",
        "[Unit]",
        f"Description=optbench nightly run of suite {s.suite}, every day at {s.at}",
        "",
        "[Timer]",
        f"OnCalendar=*-*-* {int(hour):02d}:{int(minute):02d}:00",
        # a night missed while the board was off runs at the next boot
        "Persistent=true",
        f"Unit={s.name}.service",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ])  # fmt: skip


def cron_line(s: Schedule) -> str:
    """For crontab -e of the same user (in the jtop group); cron has no Persistent=: a night
    missed while the board was off is not caught up (anacron can)."""
    hour, minute = s.at.split(":")
    command = s.shell_command() + (" && " + str(s.analysis_command()) if s.analysis_python else "")
    return "{} {} * * * {}".format(int(minute), int(hour), command.replace("%", "\\%"))


def install(s: Schedule, unit_dir: str) -> List[str]:
    os.makedirs(unit_dir, exist_ok=True)
    os.makedirs(os.path.dirname(s.log), exist_ok=True)
    paths = []
    for suffix, text in ((".service", service_unit(s)), (".timer", timer_unit(s))):
        path = os.path.join(unit_dir, s.name + suffix)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        paths.append(path)
    return paths


def uninstall(name: str, unit_dir: str) -> List[str]:
    removed = []
    for suffix in (".service", ".timer"):
        path = os.path.join(unit_dir, name + suffix)
        if os.path.exists(path):
            os.remove(path)
            removed.append(path)
    return removed


def unit_name(suite: str) -> str:
    return Schedule(suite, "", (), "", "", "", "00:00").name


def forwarded(options: Sequence[Tuple[str, Optional[str]]]) -> Tuple[str, ...]:
    """The nightly options baked into the unit: (flag, value or None for a switch)."""
    out = []  # type: List[str]
    for flag, value in options:
        if value is None:
            out.append(flag)
        else:
            out.extend([flag, value])
    return tuple(out)
