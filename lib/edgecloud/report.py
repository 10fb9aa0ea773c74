"""Executed notebooks in, one self-contained offline HTML report out."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import mistune
import nbformat
import yaml
from nbconvert import HTMLExporter
from traitlets.config import Config

from edgecloud import machine, paths, summaries
from edgecloud.notebooks import NOTEBOOKS
from edgecloud.params import ParamsError, load_params

SHOW_CODE_TAG = "show-code"
# The report runs no script and loads nothing from outside: figures are data URIs, styles are inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#fafbfc}
main{max-width:1040px;margin:0 auto;padding:24px 32px 80px;background:#fff}
h1,h2,h3{line-height:1.25}h1{font-size:2em;border-bottom:2px solid #dde3ea;padding-bottom:.2em}
section.notebook{border-top:3px solid #3b6ea5;margin-top:48px}
nav.toc{background:#f3f6f9;border:1px solid #dde3ea;padding:8px 20px;border-radius:6px}
nav.toc ol{margin:4px 0}
table{border-collapse:collapse;margin:10px 0;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d5dbe3;padding:3px 8px;text-align:right}th{background:#eef2f6}
td:first-child,th:first-child{text-align:left}
pre{background:#f4f6f8;padding:8px;overflow-x:auto;font-size:12.5px}
svg,img{max-width:100%;height:auto}
.jp-InputPrompt,.jp-OutputPrompt,.prompt,.input_prompt,.output_prompt{display:none}
.summary{background:#f6faf6;border-left:4px solid #4c9a5a;padding:4px 16px}
code{background:#f1f3f5;padding:0 3px;border-radius:3px}
"""


def _reveals_identity(params_file: Path) -> bool:
    try:
        return load_params(params_file).report.identity
    except ParamsError:
        return False


def redact(page: str, reveal: bool) -> str:
    """The page without this machine's host name or the user's home path, unless the params opt in."""
    if reveal:
        return page
    page = page.replace(str(Path.home()), "~")
    host = socket.gethostname()
    return page.replace(host, "&lt;host&gt;") if len(host) >= 4 else page


def _executive_figure() -> str:
    """The executive summary's figure as an inline image with alt text from its titles ('' when there is none)."""
    path = summaries.path("executive.svg")
    if not path.exists():
        return ""
    svg = path.read_text()
    data = base64.b64encode(svg.encode()).decode()
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(figure_alt(svg))}">'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _prepare(nb: nbformat.NotebookNode, prefix: str) -> tuple[nbformat.NotebookNode, str, list[tuple[str, str]]]:
    """Hide code (unless tagged show-code), drop parameters and stderr, anchor ## headings."""
    cells, title, subsections = [], prefix, []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters"}:
            continue
        if cell.cell_type == "markdown":
            lines = []
            for line in cell.source.splitlines():
                if line.startswith("# ") and title == prefix:
                    title = line[2:].strip()
                    continue
                if line.startswith("## "):
                    anchor = f"{prefix}-{_slug(line[3:])}"
                    subsections.append((anchor, line[3:].strip()))
                    lines.append(f'<a id="{anchor}"></a>\n')
                lines.append(line)
            cell.source = "\n".join(lines)
        elif cell.cell_type == "code":
            if SHOW_CODE_TAG not in tags:
                cell.metadata["tags"] = [*tags, "hide-input"]
            cell.outputs = [
                o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb, title, subsections


SVG_IMG = re.compile(r'<img[^>]*? src="data:image/svg\+xml;base64,([^"]+)"[^>]*>')
TITLE = re.compile(r"<text[^>]*>([^<]*\[(?:measured|modeled|sourced)\])</text>")


def figure_alt(svg: str) -> str:
    """A figure's alt text: its titles, each with the kind of its numbers (plots.finish puts them there)."""
    titles = [" ".join(html.unescape(t).split()) for t in TITLE.findall(svg)]
    return "Figure: " + "; ".join(titles) if titles else "Figure without a title"


def describe_figures(body: str) -> str:
    """Every inline SVG figure's img tag with alt text from the figure itself."""

    def alt(m: re.Match) -> str:
        text = figure_alt(base64.b64decode(m.group(1)).decode("utf-8", "replace"))
        return f'<img src="data:image/svg+xml;base64,{m.group(1)}" alt="{html.escape(text)}">'

    return SVG_IMG.sub(alt, body)


def _provenance(root: Path, params_file: str, notebooks: list[str]) -> str:
    desc = machine.describe()
    git = machine.git_state(root)
    records = []
    for name in notebooks:
        path = paths.outputs() / "artifacts" / "provenance" / f"{name}.json"
        if path.exists():
            records.append(json.loads(path.read_text()))
    try:
        resolved = yaml.safe_dump(load_params(root / params_file).model_dump(), sort_keys=False, width=110)
        params_text = (root / params_file).read_text()
    except ParamsError as e:
        resolved, params_text = str(e), "(params file not readable)"
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in desc.items())
    runs = "".join(
        f"<tr><td>{r['notebook']}</td><td>{r['started']}</td><td>{r['finished']}</td><td>{r['runtime_s']}</td></tr>"
        for r in records
    )
    return (
        '<section class="notebook" id="provenance"><h1>Appendix: provenance</h1>'
        f"<p>Git commit <code>{git['commit']}</code>, uncommitted changes: <b>{git['dirty']}</b>. "
        f"Report built {datetime.now(UTC).isoformat(timespec='seconds')}.</p>"
        f"<h2>Notebook runs</h2><table><tr><th>notebook</th><th>started (UTC)</th><th>finished (UTC)</th>"
        f"<th>runtime (s)</th></tr>{runs}</table>"
        f"<h2>Hardware and software</h2><table>{rows}</table>"
        f"<h2>Parameters: <code>{html.escape(params_file)}</code></h2><pre>{html.escape(params_text)}</pre>"
        f"<h2>Resolved parameters (the file with every default filled in)</h2><pre>{html.escape(resolved)}</pre>"
        "</section>"
    )


def build(out: Path | None = None) -> Path:
    """Assemble outputs/report.html from every executed notebook, writing via a temporary file."""
    root = paths.project_root()
    out = out or paths.outputs() / "report.html"
    executed = [n.id for n in NOTEBOOKS if (paths.outputs() / "notebooks" / f"{n.id}.ipynb").exists()]
    if not executed:
        raise FileNotFoundError("no executed notebooks under outputs/notebooks: run `make report`")
    stamp = paths.outputs() / ".stamps" / "params-file"
    params_file = stamp.read_text().strip() if stamp.exists() else "params/default.yaml"
    config = Config(TagRemovePreprocessor={"remove_input_tags": ["hide-input"], "enabled": True})
    exporter = HTMLExporter(config=config, template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
    sections, toc = [], []
    for name in executed:
        nb = nbformat.read(paths.outputs() / "notebooks" / f"{name}.ipynb", as_version=4)
        nb, title, subsections = _prepare(nb, name[:2])
        body = describe_figures(exporter.from_notebook_node(nb)[0])
        sections.append(f'<section class="notebook" id="nb-{name[:2]}"><h1>{html.escape(title)}</h1>{body}</section>')
        subs = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in subsections)
        toc.append(f'<li><a href="#nb-{name[:2]}">{html.escape(title)}</a><ol>{subs}</ol></li>')
    found = [summaries.path(f"{n}.md") for n in executed]
    summary_html = "".join(mistune.html(p.read_text()) for p in found if p.exists())
    main = [summaries.path("executive.md")] if "04-metrics-analysis" in executed else []
    parts = [p for p in (*main, *(summaries.path(f"executive-{n}.md") for n in executed)) if p.exists()]
    executive_html = (
        f'<section class="executive" id="executive"><h2>Executive summary</h2>{_executive_figure() if main else ""}'
        f"{''.join(mistune.html(p.read_text()) for p in parts)}"
        "</section>"
        if parts
        else ""
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><title>edgecloud report</title>'
        f"<style>{CSS}</style></head><body><main><h1>Cloud, edge or both? A measured report</h1>"
        f"<p>Run on <b>{html.escape(machine.describe()['cpu_model'])}</b> with "
        f"<code>{html.escape(params_file)}</code>. "
        "Every number is labelled <i>measured</i> (this run, this machine), <i>modeled</i> (computed from measured "
        "parts and stated assumptions) or <i>sourced</i> (published, cited).</p>"
        f"{executive_html}"
        f'<div class="summary"><h2>Run summary</h2>{summary_html}</div>'
        f'<nav class="toc"><h2>Contents</h2><ol>{"".join(toc)}<li><a href="#provenance">Provenance</a></li></ol></nav>'
        f"{''.join(sections)}{_provenance(root, params_file, executed)}</main></body></html>"
    )
    tmp = out.with_suffix(".tmp")
    tmp.write_text(redact(page, _reveals_identity(root / params_file)))
    os.replace(tmp, out)
    return out
