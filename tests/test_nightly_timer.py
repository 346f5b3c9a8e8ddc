"""The schedule: systemd units rendered, checked by systemd itself, and the service's own
command line run for real; the cron line; uninstalling."""

import getpass
import os
import shlex
import shutil
import subprocess

import pytest
from conftest import ROOT, run_cli
from nightly_fixtures import summary_of

from bench.nightly import timer


def _install(tmp_path, *extra):
    units = str(tmp_path / "units")
    done = run_cli("nightly", "smoke", "--install-timer", "--unit-dir", units, "--results", str(tmp_path / "results"),
                   "--reports", str(tmp_path / "reports"), "--log", str(tmp_path / "logs" / "smoke.log"),
                   "--until", "06:00", "--at", "21:30", *extra)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return units, done


def _unit(units, suffix):
    with open(os.path.join(units, "optbench-nightly-smoke" + suffix)) as handle:
        return handle.read()


def _exec_start(service):
    """The shell command of ExecStart=/bin/sh -c '...', as systemd hands it to /bin/sh."""
    (line,) = [entry for entry in service.splitlines() if entry.startswith("ExecStart=")]
    argv = shlex.split(line[len("ExecStart=") :].replace("%%", "%").replace("$$", "$"))
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3, argv
    return argv[2]


def test_the_units_spell_out_user_group_directory_log_window_and_persistence(tmp_path):
    units, done = _install(tmp_path, "--user", "nano")
    service, timer_text = _unit(units, ".service"), _unit(units, ".timer")
    assert "User=nano\n" in service and "SupplementaryGroups=jtop\n" in service
    assert f"WorkingDirectory={ROOT}\n" in service and "Type=oneshot\n" in service
    command = _exec_start(service)
    assert command.startswith(f"cd {ROOT} && ") and command.endswith(f" >> {tmp_path}/logs/smoke.log 2>&1")
    assert " -m bench nightly smoke " in command and "--until 06:00" in command
    assert f"--results {tmp_path}/results" in command
    assert "OnCalendar=*-*-* 21:30:00\n" in timer_text and "Persistent=true\n" in timer_text
    assert "Unit=optbench-nightly-smoke.service\n" in timer_text and "WantedBy=timers.target" in timer_text
    assert os.path.isdir(str(tmp_path / "logs"))
    assert f"30 21 * * * {command}" in done.stdout  # the cron line: the same command
    assert "sudo systemctl enable --now optbench-nightly-smoke.timer" in done.stdout


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
@pytest.mark.slow
def test_systemd_accepts_the_units_and_the_services_command_runs_a_night(tmp_path):
    # the board's user (systemd-analyze verify does not look it up; it warns of root and nobody)
    units, _ = _install(tmp_path, "--user", "nano")
    paths = [os.path.join(units, "optbench-nightly-smoke" + s) for s in (".service", ".timer")]
    verified = subprocess.run(["systemd-analyze", "verify"] + paths, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    # verify exits 0 on a setting it ignores; it names it on stderr, which must stay empty
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    command = _exec_start(_unit(units, ".service"))
    night = subprocess.run(["/bin/sh", "-c", command], timeout=600)  # as systemd would: no PYTHONPATH
    assert night.returncode == 0  # no baseline given: no regression to find
    log = open(str(tmp_path / "logs" / "smoke.log")).read()
    assert "# optbench nightly: smoke, night " in log and "summary: " in log
    (run_id,) = os.listdir(str(tmp_path / "results" / "smoke"))
    assert summary_of(str(tmp_path / "results" / "smoke" / run_id))["trials"]["recorded"] == 77


def test_a_broken_unit_is_caught_by_the_same_check(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    schedule = timer.Schedule(
        "smoke", "/usr/bin/python3", (), getpass.getuser(), str(tmp_path), "/tmp/x.log", "22:00"
    )
    broken = str(tmp_path / "broken.service")
    with open(broken, "w") as handle:
        handle.write(timer.service_unit(schedule).replace("Type=oneshot", "Type=oneshott"))
    verified = subprocess.run(["systemd-analyze", "verify", broken], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    assert "Failed to parse service type" in verified.stderr


def test_systemd_specifiers_and_shell_words_are_escaped(tmp_path):
    schedule = timer.Schedule("smoke", "/opt/py 3/bin/python", ("--results", "/data/100%/$HOME"), "nano",
                              "/home/nano/bench", "/home/nano/logs/n.log", "22:00")  # fmt: skip
    command = _exec_start(timer.service_unit(schedule))
    assert shlex.split(command)[3:6] == ["/opt/py 3/bin/python", "-m", "bench"]
    assert "/data/100%/$HOME" in shlex.split(command)
    assert "\\%" in timer.cron_line(schedule)  # cron reads a bare % as a newline


def test_uninstall_removes_the_units_and_bad_input_is_refused(tmp_path):
    units, _ = _install(tmp_path, "--user", "nano")
    done = run_cli("nightly", "smoke", "--uninstall-timer", "--unit-dir", units)
    assert done.returncode == 0 and os.listdir(units) == []
    again = run_cli("nightly", "smoke", "--uninstall-timer", "--unit-dir", units)
    assert again.returncode == 2 and "no units named optbench-nightly-smoke.service" in again.stderr
    late = run_cli("nightly", "smoke", "--install-timer", "--unit-dir", units, "--at", "25:00")
    assert late.returncode == 2 and "--at '25:00': a local time of day" in late.stderr
    root = run_cli("nightly", "smoke", "--install-timer", "--unit-dir", units, "--user", "root")
    assert root.returncode == 2 and "--user root: the night runs as an unprivileged user" in root.stderr
    assert os.listdir(units) == []
