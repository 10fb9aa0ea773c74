"""End to end: `make report PARAMS=params/smoke.yaml` in a temporary copy; then a failing cell keeps the last report."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from html import escape as html_escape

import nbformat
import pytest
import yaml

from edgecloud.notebooks import NOTEBOOKS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def copy(tmp_path_factory, root):
    dst = tmp_path_factory.mktemp("project") / "edgecloud"
    shutil.copytree(
        root,
        dst,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache"),
    )
    (dst / "outputs").mkdir()
    if (root / "outputs" / "cache").exists():  # reuse exported and quantized models; keys include code and versions
        (dst / "outputs" / "cache").symlink_to(root / "outputs" / "cache")
    (dst / ".venv").symlink_to(root / ".venv")
    # a notebook-02 run measured on another machine, committed as a user would, read by the first report
    fixture = root / "tests" / "fixtures" / "store" / "amd-epyc-2c-d9844c" / "runs"
    measured = next(p for p in sorted(fixture.iterdir()) if '"02-cloud-' in (p / "run.json").read_text())
    shutil.copytree(measured, dst / "data" / "results" / FOREIGN / "runs" / "20260101T000000-copied")
    return dst


FOREIGN = "raspberry-pi-5-4c-test"


def _make(copy, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    return subprocess.run(
        ["make", *args, "PARAMS=params/smoke.yaml"], cwd=copy, env=env, capture_output=True, text=True, timeout=900
    )


def test_smoke_report_has_every_section_and_figure(copy) -> None:
    proc = _make(copy, "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (copy / "outputs" / "report.html").read_text()
    for title in (
        *(html_escape(n.heading) for n in NOTEBOOKS),
        "<h2>Executive summary</h2>",
        "Generative use cases (notebook 05)",
        "Speech use cases (notebook 06;",
        "Appendix: provenance",
        "Run summary",
        "Contents",
    ):
        assert title in html
    assert "cloud-cpu-fp32 is the same server's model at fp32" in html  # the labelled extra beside int8
    assert html.count("data:image/svg+xml") >= 12  # figures are embedded as SVG data URIs
    assert "Traceback" not in html and "output_error" not in html and "ename" not in html
    assert "PosixPath" not in html and str(copy) not in html
    assert not re.search(r"<script[^>]*src=|<link[^>]*href=\"http", html), "the report must open offline"
    from edgecloud import deploy

    for manifest in (copy / "outputs" / "deploy").glob("*/inferenceservice.yaml"):  # the cloud answers, if any
        deploy.validate(list(yaml.safe_load_all(manifest.read_text()))[1])
    again = _make(copy, "report")
    assert again.returncode == 0 and "edgecloud run" not in again.stdout  # nothing changed: no notebook re-runs


# One table of each notebook, rebuilt from the parquet store alone in a process without torch or Jupyter.
REBUILD = """
import sys
from edgecloud.results import analysis_tables, generative_tables, speech_tables, tables, usecase_tables
from edgecloud.results.store import latest_here
tables.presentation()
rows = latest_here(sys.argv[1])  # this machine's latest run (data/results holds another machine's)
table = {"00-system-under-test": tables.ceilings, "01-inference-concepts": tables.outputs,
         "02-cloud-edge-measurements": tables.edge, "03-use-cases": usecase_tables.options,
         "04-metrics-analysis": analysis_tables.cascade,
         "05-generative-inference": lambda r: generative_tables.token_timing(r, ["llama.cpp"]),
         "06-speech-recognition": speech_tables.timing}[sys.argv[1]](rows)
assert not any(m.split(".")[0] in ("torch", "onnxruntime", "papermill", "IPython") for m in sys.modules)
print(tables.html(table))
"""


@pytest.mark.parametrize(
    "notebook",
    [
        "00-system-under-test",
        "01-inference-concepts",
        "02-cloud-edge-measurements",
        "03-use-cases",
        "04-metrics-analysis",
        "05-generative-inference",
        "06-speech-recognition",
    ],
)
def test_each_notebook_table_is_rebuilt_from_the_store_alone(copy, notebook) -> None:
    env = {**os.environ, "EDGECLOUD_ROOT": str(copy)}
    out = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "-c", REBUILD, notebook], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    nb = nbformat.read(copy / "outputs" / "notebooks" / f"{notebook}.ipynb", as_version=4)
    shown = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert out.stdout.strip() in [html.strip() for html in shown]


def test_results_copied_from_another_machine_reach_the_report(copy) -> None:
    """The fixture put a run from another machine in data/results before the first report: it shows there, and a
    further copy makes Make re-run the notebooks that read it."""
    from edgecloud.results import runs

    mine = runs([copy / "outputs" / "results"])
    assert mine.complete.all() and set(mine.notebook) == {n.id for n in NOTEBOOKS}
    assert FOREIGN in (copy / "outputs" / "report.html").read_text()
    another = copy / "data" / "results" / "another-machine"
    shutil.copytree(copy / "data" / "results" / FOREIGN, another)
    try:
        proc = _make(copy, "-n", "report")  # `make -n` still runs the stamp (`+`): it lists what would re-run
    finally:
        shutil.rmtree(another)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "edgecloud run 02-cloud-edge-measurements" in proc.stdout  # Make noticed the new results
    assert "edgecloud run 00-system-under-test" not in proc.stdout


def test_a_failing_cell_names_notebook_and_cell_and_keeps_the_last_report(copy) -> None:
    from edgecloud.results import read, runs

    report = copy / "outputs" / "report.html"
    before = report.read_bytes()
    path = copy / "notebooks" / "00-system-under-test.ipynb"
    original = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell('raise RuntimeError("boom")'))
    nbformat.write(nb, path)
    try:
        proc = _make(copy, "report")
    finally:
        path.write_bytes(original)
    assert proc.returncode != 0
    assert "notebooks/00-system-under-test.ipynb: cell" in proc.stderr and "boom" in proc.stderr
    assert report.read_bytes() == before
    assert (copy / "outputs" / "notebooks" / "00-system-under-test.failed.ipynb").exists()
    results = copy / "outputs" / "results"
    partial = runs([results], include_incomplete=True)
    assert (~partial.complete.astype(bool)).sum() == 1  # the failed run is stored, but not complete
    latest = read([results], notebook="00-system-under-test").run_id.unique()
    assert list(latest) == list(runs([results]).query("notebook == '00-system-under-test'").run_id)


HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def _hostile_overlay(copy) -> str:
    """Smoke params with a use case and a device named by an attacker."""
    import yaml

    from edgecloud.params import Params

    case = Params().usecases.cases["card-fraud"].model_dump()
    device = {"role": "edge", "reference_latency": "rpi5_resnet50_int8_4t", "price": "rpi5_price", "note": HOSTILE}
    doc = {
        "extends": "smoke.yaml",
        "usecases": {"cases": {f"case {HOSTILE}": case}, "devices": {f"dev {HOSTILE}": device}},
    }
    (copy / "params" / "hostile.yaml").write_text(yaml.safe_dump(doc))
    return "params/hostile.yaml"


def _browser(report, screenshot):
    """Open the report in headless Chromium with the network blocked; what it logged, loaded and showed."""
    import shutil as sh

    if not (sh.which("chromium") and sh.which("chromedriver")):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them as root)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = sh.which("chromium")
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1200,2400",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(sh.which("chromedriver")), options=opts)
    try:
        driver.get(report.as_uri())
        images = driver.execute_script(
            "return [...document.images].map(i => [i.complete && i.naturalWidth > 0, i.src.slice(0, 30)])"
        )
        title = driver.title
        console = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        failed = [e for e in driver.get_log("performance") if "Network.loadingFailed" in e["message"]]
        driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    return title, images, console, failed


def test_a_shared_report_shows_hostile_names_as_text_and_runs_nothing(copy) -> None:
    params = _hostile_overlay(copy)
    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    py = str(copy / ".venv" / "bin" / "python")
    for args in (["stamp"], ["run", "03-use-cases"]):
        proc = subprocess.run(
            [py, "-m", "edgecloud", *args, "--params", params],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert subprocess.run([py, "-m", "edgecloud", "report"], cwd=copy, env=env, capture_output=True).returncode == 0
    html = (copy / "outputs" / "report.html").read_text()
    assert "case &lt;script&gt;" in html and "&amp;lt;script" not in html  # escaped once, in tables and prose
    assert "&lt;script&gt;document.title" in html  # shown as text
    assert "<script>document.title" not in html and "<img src=x" not in html  # never as markup
    assert 'http-equiv="Content-Security-Policy"' in html
    title, images, console, failed = _browser(copy / "outputs" / "report.html", copy / "outputs" / "report.png")
    assert title == "edgecloud report"  # no script ran
    assert images and all(ok for ok, _ in images), [src for ok, src in images if not ok]
    assert console == [] and failed == []
    assert (copy / "outputs" / "report.png").stat().st_size > 10_000


def _servers_under(root) -> list:
    """MLServer, relay and delay-box processes started from this copy."""
    return _ours(root, ("mlserver", "edgecloud.network.proxy", "delaybox.py"))


def test_a_cell_that_raises_after_the_server_started_leaves_no_server(copy) -> None:
    path = copy / "notebooks" / "02-cloud-edge-measurements.ipynb"
    original = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell('raise RuntimeError("boom after the server started")'))
    nbformat.write(nb, path)
    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    try:
        proc = subprocess.run(
            [
                str(copy / ".venv" / "bin" / "python"),
                "-m",
                "edgecloud",
                "run",
                "02-cloud-edge-measurements",
                "--params",
                "params/smoke.yaml",
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        path.write_bytes(original)
    assert proc.returncode != 0
    assert "notebooks/02-cloud-edge-measurements.ipynb: cell" in proc.stderr and "boom after the server" in proc.stderr
    deadline = time.monotonic() + 15
    while _servers_under(copy) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _servers_under(copy) == []


def test_ctrl_c_during_measure_stops_everything_and_marks_nothing_complete(copy) -> None:
    import psutil

    from edgecloud.results import runs

    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    before = set(runs([copy / "outputs" / "results"], include_incomplete=True).run_id)
    proc = subprocess.Popen(
        [str(copy / ".venv" / "bin" / "python"), "-m", "edgecloud", "measure", "--params", "params/smoke.yaml"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not _servers_under(copy) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    time.sleep(3)  # measuring now
    children = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [] and _servers_under(copy) == []
    new = runs([copy / "outputs" / "results"], include_incomplete=True)
    new = new[~new.run_id.isin(before)]
    assert len(new) <= 1 and not new.complete.astype(bool).any()


def _ours(root, kinds: tuple[str, ...] = ("ipykernel", "mlserver", "edgecloud", "llama_cpp.server")) -> list:
    """Processes started for this copy (by EDGECLOUD_ROOT) whose command line names one of `kinds`."""
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd, env = " ".join(p.info["cmdline"] or []), p.info["environ"] or {}
        except psutil.Error:
            continue
        if env.get("EDGECLOUD_ROOT") == str(root) and any(k in cmd for k in kinds):
            found.append(p)
    return found


def test_ctrl_c_during_make_report_prints_one_line_and_leaves_nothing_behind(copy) -> None:
    """Ctrl-C while notebook 02 has its server and relays up: one short message and no traceback from any child,
    no process left, the last report unchanged and the interrupted run never marked complete."""
    from edgecloud.results import runs

    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    report = copy / "outputs" / "report.html"
    last_report = report.read_bytes()
    (copy / "notebooks" / "02-cloud-edge-measurements.ipynb").touch()  # something to run, with a server
    for done in ("00-system-under-test", "01-inference-concepts"):  # left current by earlier tests: not re-run
        (copy / "outputs" / "notebooks" / f"{done}.ipynb").touch()
    before = set(runs([copy / "outputs" / "results"], include_incomplete=True).run_id)
    proc = subprocess.Popen(
        ["make", "report", "PARAMS=params/smoke.yaml"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None and not _servers_under(copy):
        time.sleep(0.3)
    time.sleep(3)  # measuring now
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    out, err = proc.communicate(timeout=90)
    assert proc.returncode != 0
    assert "Traceback" not in out + err, err[-3000:]
    assert "interrupted: notebooks/02-cloud-edge-measurements.ipynb stopped" in err
    deadline = time.monotonic() + 20
    while _ours(copy) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ours(copy) == []
    assert report.read_bytes() == last_report
    assert list((copy / "outputs" / "notebooks").glob("*.running.ipynb")) == []  # no half-written copy
    new = runs([copy / "outputs" / "results"], include_incomplete=True)
    new = new[~new.run_id.isin(before)]
    assert set(new.notebook) <= {"02-cloud-edge-measurements"} and not new.complete.astype(bool).any()
