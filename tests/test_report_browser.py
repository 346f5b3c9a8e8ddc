"""The HTML report in a real browser: Debian's chromium, headless, from file://.

The page is opened as a user would open it off a USB stick. A copy of it with a probe script
at the top of <head> reports what the browser saw: script errors, images that did not load
(naturalWidth 0), the sections, the History section's figures, and whether the appendix's
filter works. Screenshots of the page itself are saved under test-artifacts/ for a person to
look at: the golden run's report, and a report whose History section flags a step.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import ROOT, golden_run, run_cli

pytest.importorskip("seaborn", reason="the report needs optbench[report]")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it"
    ),
]
ARTIFACTS = os.path.join(ROOT, "test-artifacts")

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(e.message || ("failed to load " + (e.target && (e.target.src || e.target.href))));
}, true);
var __consoleError = console.error;
console.error = function () { window.__errors.push(Array.prototype.join.call(arguments, " ")); __consoleError.apply(console, arguments); };
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var rows = function () {
    return Array.prototype.filter.call(document.querySelectorAll("#table-trials tbody tr"),
      function (r) { return r.style.display !== "none"; }).length;
  };
  var before = rows();
  var filter = document.getElementById("trial-filter");
  filter.value = "diverged";
  filter.dispatchEvent(new Event("input"));
  var probe = {
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.alt; }),
    history: Array.prototype.map.call(document.querySelectorAll("#history img"), function (i) { return i.naturalWidth; }),
    sections: Array.prototype.map.call(document.querySelectorAll("section[id]"), function (s) { return s.id; }),
    errors: window.__errors, rows: before, filtered: rows(), title: document.title
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(probe);
  document.body.appendChild(pre);
});
</script>"""


def chromium(*args, timeout=120):
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=5000"] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from bench.report.build import build_report

    out = str(tmp_path_factory.mktemp("report") / "golden")
    return build_report(golden_run(2), out)


@pytest.fixture(scope="module")
def history_report(tmp_path_factory):
    """The report of the last of 30 nights whose sgd times step up 10% at night 20, with a night
    in another power mode and a throttled one (hollow points in the trends). The problems'
    figures are left out: the History section is what this report is for."""
    from bench.report.build import build_report
    from tests.test_history_runs import write_nights  # skips where ruptures is missing

    results = tmp_path_factory.mktemp("nights")
    write_nights(results, 30, slower_from=20, slowdown=1.1, throttled=(8,), power_modes={3: "5W"})
    (last,) = (results / "nightly").glob("*-night-29")
    return build_report(str(last), str(tmp_path_factory.mktemp("report") / "history"), figure_modules=())


def open_probed(report):
    """What the browser saw of the report (the PROBE's findings), and chromium's stderr."""
    with open(os.path.join(report, "index.html"), encoding="utf-8") as page:
        html = page.read()
    probed = os.path.join(report, "index.probe.html")
    with open(probed, "w", encoding="utf-8") as page:
        page.write(html.replace("<head>", "<head>" + PROBE, 1))
    done = chromium("--dump-dom", "file://" + probed)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert match, "the probe never ran: " + done.stderr[-2000:]
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")), done.stderr


def screenshot(report, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, name)
    if os.path.exists(shot):
        os.remove(shot)
    done = chromium(
        "--screenshot=" + shot, "--window-size=1280,2400", "file://" + os.path.join(report, "index.html")
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return shot


def test_the_report_opens_from_file_with_every_image_loaded_and_no_errors(report):
    probe, stderr = open_probed(report)
    assert probe["errors"] == []
    assert [line for line in stderr.splitlines() if ":CONSOLE" in line] == []  # the page logs nothing
    assert probe["images"] >= 8 and probe["broken"] == []
    assert probe["sections"][:2] == ["summary", "history"] and probe["sections"][-1] == "appendix"
    assert probe["history"] == []  # two nights of the golden suite: a line, no figure
    for problem in ("linear", "linear-noisy", "curve", "lenet"):
        assert "problem-" + problem in probe["sections"]
    assert probe["rows"] == 24 and probe["filtered"] == 2  # the two diverged trials
    assert probe["title"] == "optbench report: golden/schema2"


def test_a_screenshot_of_the_report_is_kept_for_a_person_to_look_at(report):
    shot = screenshot(report, "report-golden.png")
    assert os.path.getsize(shot) > 50_000  # a page with figures, not a blank one


def test_the_history_section_s_trend_figures_render(history_report):
    probe, stderr = open_probed(history_report)
    assert probe["errors"] == [] and probe["broken"] == []
    assert [line for line in stderr.splitlines() if ":CONSOLE" in line] == []
    assert probe["sections"][:2] == ["summary", "history"]
    assert len(probe["history"]) == 2 and all(width > 0 for width in probe["history"])  # step and train time
    # The page's top, History section included (its figures are the first on this page).
    shot = screenshot(history_report, "report-history.png")
    assert os.path.getsize(shot) > 50_000


LANDSCAPE_SUITE = """\
problems:
  rosenbrock: {steps: 300}
  saddle: {steps: 100}
optimizers: {sgd: {lr: [0.001, 0.003, 0.01]}, momentum: {lr: 0.001}, adam: {lr: [0.001, 0.1]}}
telemetry: {sources: [none]}
"""


@pytest.fixture(scope="module")
def landscape_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("landscapes")
    (root / "landscapes.yaml").write_text(LANDSCAPE_SUITE)
    done = run_cli("run", str(root / "landscapes.yaml"), "--results", str(root / "results"), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    from bench.report.build import build_report

    return build_report(str(root / "results" / "landscapes" / "r"), str(root / "report"))


def test_the_landscapes_section_opens_with_its_animations_loaded_and_a_screenshot_is_kept(landscape_report):
    with open(os.path.join(landscape_report, "index.html"), encoding="utf-8") as page:
        html = page.read()
    probed = os.path.join(landscape_report, "index.probe.html")
    with open(probed, "w", encoding="utf-8") as page:
        page.write(html.replace("<head>", "<head>" + PROBE, 1))
    done = chromium("--dump-dom", "file://" + probed)
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S).group(1).replace("&quot;", '"')
                       .replace("&amp;", "&"))  # fmt: skip
    assert probe["errors"] == [] and probe["broken"] == []
    assert probe["sections"][-2:] == ["landscapes", "appendix"]
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "report-landscapes.png")
    if os.path.exists(shot):
        os.remove(shot)
    # Headless chromium's screenshot ignores a #fragment's scroll: a copy of the page that keeps
    # the header and this section only (the sections are siblings in <main>).
    kept = re.sub(r'<section id="(?!landscapes")[^"]*">.*?</section>', "", html, flags=re.S)
    section = os.path.join(landscape_report, "index.landscapes.html")
    with open(section, "w", encoding="utf-8") as page:
        page.write(kept.replace('document.getElementById("trial-filter").addEventListener', "void", 1))
    done = chromium("--screenshot=" + shot, "--window-size=1280,2400", "file://" + section)
    assert done.returncode == 0, done.stderr[-2000:]
    assert os.path.getsize(shot) > 50_000
