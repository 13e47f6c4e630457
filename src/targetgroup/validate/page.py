"""The quality gate's results as one self-contained HTML page of the run (`quality_gate.html`).

    write_page(path, result) -> path

Great Expectations' Data Docs load their styles and scripts from CDNs: on a machine without
internet they render unstyled with an empty results list. The run links to this page instead:
inline styles, no scripts, no external URL. In: a finished `GateResult` (errors, warnings,
outcomes, quarantined/rejected/unmatched counts). Out: the page, owner-only. It holds what the
manifest's `quality` entry holds (counts and messages with masked CPRs only) and goes through
the CPR scrubber as well.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from targetgroup.deliver.files import write_text
from targetgroup.privacy import scrub

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.failed { color: #a00; font-weight: bold; }
.passed { color: #070; }
li.error { color: #a00; }
li.warning { color: #a60; }
"""


def write_page(path: Path, result) -> Path:  # noqa: ANN001 - a GateResult (avoids an import cycle)
    """Write the gate's findings to `path` as one page with nothing loaded from elsewhere."""
    q = result.manifest()
    verdict = "passed" if q["passed"] else "stopped the run"
    parts = [f"<h1>Quality gate: {verdict}</h1>",
             f"<p>{len(q['errors'])} error(s), {len(q['warnings'])} warning(s), "
             f"{q['rows_quarantined_total']:,} row(s) quarantined, "
             f"{sum(q['rows_rejected'].values()):,} row(s) rejected. The rows left out, with line and "
             "reason, are in <code>quarantine.csv</code> in this run's folder.</p>"]
    if q["errors"] or q["warnings"]:
        items = [f'<li class="error">{escape(e)}</li>' for e in q["errors"]]
        items += [f'<li class="warning">{escape(w)}</li>' for w in q["warnings"]]
        parts.append("<h2>Findings</h2><ul>" + "".join(items) + "</ul>")
    rows = "".join(
        f"<tr><td>{escape(e['suite'])}</td><td>{escape(e['expectation'])}</td><td>{escape(e['severity'])}</td>"
        f"<td class=\"{'passed' if e['success'] else 'failed'}\">{'passed' if e['success'] else 'failed'}</td>"
        f"<td>{escape(_shown(e['observed']))}</td></tr>" for e in q["expectations"])
    parts.append("<h2>Expectations</h2><table><tr><th>suite</th><th>expectation</th><th>severity</th>"
                 f"<th>result</th><th>observed</th></tr>{rows}</table>")
    counts = [(source, kind, n) for source, by_kind in q["rows_quarantined"].items() for kind, n in by_kind.items()]
    counts += [(source, "rejected (unparseable)", n) for source, n in q["rows_rejected"].items()]
    counts += [(source, "CPR not in the person extract", n) for source, n in q["rows_unmatched"].items()]
    if counts:
        parts.append("<h2>Rows left out</h2><table><tr><th>source</th><th>why</th><th>rows</th></tr>"
                     + "".join(f"<tr><td>{escape(str(s))}</td><td>{escape(str(k))}</td><td>{n:,}</td></tr>"
                               for s, k, n in counts) + "</table>")
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Quality gate</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    return write_text(path, scrub(html))


def _shown(observed: object) -> str:
    return "" if observed is None else json.dumps(observed, ensure_ascii=False, default=str)
