"""The leadership report: one self-contained HTML page per run (inline CSS and SVG, no scripts,
no network), Danish by default. Counts only, every figure read from the suppressed `Figures`.

    render(fig, lang, dept_names, rule_titles) -> str
    write_report(fig, path, lang, dept_names, rule_titles) -> path (mode 600)
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from targetgroup.deliver import svg, texts
from targetgroup.deliver.figures import Figures
from targetgroup.deliver.files import write_text

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
header{background:#1f4e79;color:#fff;padding:22px 32px}
header h1{margin:0;font-size:24px;font-weight:600} header p{margin:6px 0 0;opacity:.85}
main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}
.note{font-size:13px;color:#4a5260;margin:0 0 18px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin-bottom:18px}
.kpi{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi .v{font-size:30px;font-weight:650;color:#1f4e79} .kpi .l{font-size:13px;color:#4a5260}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
section{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto}
section.wide{grid-column:1 / -1}
h2{font-size:16px;margin:0 0 10px;font-weight:600} h3{font-size:14px;margin:14px 0 0;font-weight:600}
table{border-collapse:collapse;font-size:13px;margin-top:10px;min-width:50%}
th,td{padding:3px 10px;border-bottom:1px solid #e3e6ea;text-align:left} td.n,th.n{text-align:right}
tr.total td{font-weight:600;border-top:2px solid #c9ced6}
details summary{cursor:pointer;font-size:13px;color:#1f4e79;margin-top:6px}
footer{font-size:12px;color:#6b7380;text-align:center;padding:10px}
@media (max-width:800px){.grid{grid-template-columns:1fr}.kpis{grid-template-columns:1fr 1fr}}
"""


def _table(lang: str, head: list[str], rows: list[list[str]], total: list[str] | None = None,
           unfolded: bool = False) -> str:
    """A count table, folded under "Count" below a chart; `unfolded` where it is all the section shows."""
    ths = "".join(f'<th class="{"n" if i else ""}">{escape(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i else ""}">{escape(c)}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    if total:
        body += '<tr class="total">' + "".join(
            f'<td class="{"n" if i else ""}">{escape(c)}</td>' for i, c in enumerate(total)) + "</tr>"
    return f"<details{' open' if unfolded else ''}><summary>{escape(texts.t('count', lang))}</summary><table><tr>{ths}</tr>{body}</table></details>"


def _section(title: str, chart: str, table: str, wide: bool = False, note: str = "") -> str:
    extra = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'<section class="{"wide" if wide else ""}"><h2>{escape(title)}</h2>{extra}{chart}{table}</section>'


def _bars(fig: Figures, keys: list[tuple], labels: list[str], title: str, lang: str,
          total: tuple | None = None) -> tuple[str, str]:
    if not keys:
        return f'<p class="note">{escape(texts.t("no_data", lang))}</p>', ""
    series = [(title, svg.BLUE, [fig.value(k) for k in keys], [fig.show(k) for k in keys])]
    chart = svg.hbars(labels, series, title)
    rows = [[lab, fig.show(k)] for lab, k in zip(labels, keys)]
    tot = [texts.t("total", lang), fig.show(total)] if total else None
    return chart, _table(lang, [texts.t("group", lang), texts.t("count", lang)], rows, tot)


def render(fig: Figures, lang: str = "da", dept_names: dict[str, str] | None = None,
           rule_titles: dict[str, dict[str, str]] | None = None, rules: tuple[str | None, str | None] = (None, None)) -> str:
    """The whole page as a string."""
    t = lambda key, **kw: texts.t(key, lang, **kw)  # noqa: E731
    names = dept_names or {}
    current = ("size", fig.run_id)
    kpis = [(t("kpi_size"), fig.show(current)), (t("kpi_new"), fig.show(("new", fig.run_id))),
            (t("kpi_ended"), fig.show(("ended", fig.run_id))), (t("kpi_ongoing"), fig.show(("courses", "ongoing")))]
    kpi_html = "".join(f'<div class="kpi"><div class="v">{escape(v)}</div><div class="l">{escape(lab)}</div></div>'
                       for lab, v in kpis)
    run_labels = [f"{d:%d-%m-%y}" for _, d in fig.runs]
    run_ids = [rid for rid, _ in fig.runs]
    sections = []

    size_keys = fig.keys["size"]
    chart = svg.line(run_labels, [(t("kpi_size"), svg.BLUE, [fig.value(k) for k in size_keys],
                                   [fig.show(k) for k in size_keys])], t("sec_size"))
    note = t("no_history") if len(fig.runs) == 1 else ""
    sections.append(_section(t("sec_size"), chart, _table(
        lang, [t("as_of"), t("kpi_size")], [[lab, fig.show(k)] for lab, k in zip(run_labels, size_keys)]),
        wide=True, note=note))

    new_keys = [("new", r) for r in run_ids]
    ended_keys = [("ended", r) for r in run_ids]
    series = [(t("new"), svg.BLUE, [fig.value(k) if k in fig.cells.counts else None for k in new_keys],
               [fig.show(k) if k in fig.cells.counts else "" for k in new_keys]),
              (t("ended"), svg.ORANGE, [fig.value(k) if k in fig.cells.counts else None for k in ended_keys],
               [fig.show(k) if k in fig.cells.counts else "" for k in ended_keys])]
    rows = [[lab, s1, s2] for lab, s1, s2 in zip(run_labels, series[0][3], series[1][3])]
    sections.append(_section(t("sec_flow"), svg.vbars(run_labels, series, t("sec_flow")),
                             _table(lang, [t("as_of"), t("new"), t("ended")], rows), wide=True))

    combo_labels = [k[1].replace("+", " + ") for k in fig.keys["combo"]]
    sections.append(_section(t("sec_combo"), *_bars(fig, fig.keys["combo"], combo_labels, t("sec_combo"),
                                                    lang, total=current)))
    dept_labels = [f"{k[1]} {names.get(k[1], '')}".strip() for k in fig.keys["dept"]]
    sections.append(_section(t("sec_dept"), *_bars(fig, fig.keys["dept"], dept_labels, t("sec_dept"), lang)))
    rule_labels = [texts.rule_title(k[1], lang, rule_titles) for k in fig.keys["rule"]]
    sections.append(_section(t("sec_rule"), *_bars(fig, fig.keys["rule"], rule_labels, t("sec_rule"), lang)))

    on, off = fig.keys["duration_ongoing"], fig.keys["duration_ended"]
    dur_labels = [t(k[1]) for k in on]
    series = [(t("ongoing"), svg.BLUE, [fig.value(k) for k in on], [fig.show(k) for k in on]),
              (t("ended_courses"), svg.ORANGE, [fig.value(k) for k in off], [fig.show(k) for k in off])]
    rows = [[lab, fig.show(a), fig.show(b)] for lab, a, b in zip(dur_labels, on, off)]
    total = [t("total"), fig.show(("courses", "ongoing")), fig.show(("courses", "ended"))]
    sections.append(_section(t("sec_duration"), svg.hbars(dur_labels, series, t("sec_duration")),
                             _table(lang, ["", t("ongoing"), t("ended_courses")], rows, total)))

    team_labels = [k[1] or t("no_team") for k in fig.keys["team"]]
    sections.append(_section(t("sec_team"), *_bars(fig, fig.keys["team"], team_labels, t("sec_team"), lang,
                                                   total=("courses", "ongoing"))))
    coord_labels = [t(k[1]) for k in fig.keys["coord"]]
    chart, table = _bars(fig, fig.keys["coord"], coord_labels, t("sec_coord"), lang, total=("coord", "total"))
    sources = fig.keys.get("coord_source", [])
    if sources:
        table += _table(lang, [t("coord_source"), t("courses")],
                        [[t(f"coord_{k[1]}"), fig.show(k)] for k in sources],
                        [t("total"), fig.show(("courses", "ongoing"))])
    sections.append(_section(t("sec_coord"), chart, table, wide=False, note=t("coord_note")))

    meetings = fig.keys.get("meeting", [])
    if meetings:
        # a chart with the counts under it, as the other sections (the table alone sits folded away)
        chart, table = _bars(fig, meetings, [t(f"mt_{k[1]}") for k in meetings], t("mt_meetings"), lang)
        sections.append(_section(t("sec_meetings"), chart, table, wide=False, note=t("mt_note")))
    if fig.capacity != (None, None):
        sections.append(_caseload(fig, lang, team_labels))
    sections.append(_outcomes(fig, lang))

    rules_line = (escape(f" · {t('rule_set')} {rules[0] or '?'} ({(rules[1] or '')[:12]})") if rules[1] else "")
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t("report_title"))} {fig.as_of:%d-%m-%Y}</title>
<style>{CSS}</style></head>
<body><header><h1>{escape(t("report_title"))}</h1>
<p>{escape(t("report_sub", as_of=f"{fig.as_of:%d-%m-%Y}", run_id=fig.run_id))}{rules_line}</p></header>
<main><p class="note">{escape(t("suppressed_note"))}</p>
<div class="kpis">{kpi_html}</div>
<div class="grid">{"".join(sections)}</div></main>
<footer>{escape(t("generated"))}</footer></body></html>
"""


def _caseload(fig: Figures, lang: str, team_labels: list[str]) -> str:
    """Caseload against the configured capacity: coordinators over / within N courses (rounded,
    audited figures), and each team's published ongoing courses as a share of its capacity
    (worked out from the published number only: a hidden team stays unjudged)."""
    t = lambda key, **kw: texts.t(key, lang, **kw)  # noqa: E731
    per_worker, per_team = fig.capacity
    parts = []
    if per_worker is not None and fig.keys.get("caseload"):
        over, within = fig.keys["caseload"]
        parts.append(_table(lang, [t("cl_coordinators", n=per_worker), t("cl_count")],
                            [[t("cl_over", n=per_worker), fig.show(over)], [t("cl_within", n=per_worker), fig.show(within)]],
                            [t("total"), fig.show(("coord", "total"))], unfolded=True))
    if per_team is not None:
        rows = []
        for key, label in zip(fig.keys["team"], team_labels):
            shown = fig.value(key)
            share = "•" if shown is None else f"{round(100 * shown / per_team)} %"
            rows.append([label, fig.show(key), str(per_team), share])
        parts.append(_table(lang, [t("cl_team"), t("courses"), t("cl_capacity"), t("cl_share")], rows, unfolded=True))
    return _section(t("sec_caseload"), "", "".join(parts), wide=False, note=t("cl_note"))


def _outcomes(fig: Figures, lang: str) -> str:
    """The "Outcomes" section: one table per cohort kind, a row per quarter and horizon reached."""
    t = lambda key, **kw: texts.t(key, lang, **kw)  # noqa: E731
    keys = fig.keys.get("outcome", [])
    if not keys:
        return _section(t("sec_outcomes"), f'<p class="note">{escape(t("outcomes_none"))}</p>', "", wide=True)
    measures = ("followed", "back_in_group", "departments_0", "departments_1", "departments_2p", "benefit", "education")
    head = [t("oc_cohort"), t("oc_after"), t("oc_size"), *(t(f"oc_{m}") for m in measures)]
    tables = []
    for cohort in ("ended", "comparison"):
        groups = [k[1] for k in keys if k[2] == "cohort" and k[1].startswith(cohort + ":")]
        rows = []
        for group in groups:
            size = fig.show(("outcome", group, "cohort"))
            horizons = sorted({int(k[2].split("m:")[0]) for k in keys if k[1] == group and k[2] != "cohort"})
            if not horizons:
                rows.append([group.split(":")[1], "", size, *([""] * len(measures))])
            for months in horizons:
                rows.append([group.split(":")[1], t("oc_months", n=months), size,
                             *(fig.show(("outcome", group, f"{months}m:{m}")) for m in measures)])
        if rows:
            ths = "".join(f'<th class="{"n" if i > 1 else ""}">{escape(h)}</th>' for i, h in enumerate(head))
            body = "".join("<tr>" + "".join(f'<td class="{"n" if i > 1 and c else ""}">{escape(c)}</td>'
                                            for i, c in enumerate(r)) + "</tr>" for r in rows)
            tables.append(f"<h3>{escape(t('oc_' + cohort))}</h3><table><tr>{ths}</tr>{body}</table>")
    return _section(t("sec_outcomes"), "".join(tables), "", wide=True, note=t("outcomes_note"))


def write_report(fig: Figures, path: Path, lang: str = "da", dept_names: dict[str, str] | None = None,
                 rule_titles: dict[str, dict[str, str]] | None = None,
                 rules: tuple[str | None, str | None] = (None, None)) -> Path:
    """Write the page to `path` with mode 600."""
    return write_text(path, render(fig, lang, dept_names, rule_titles, rules))
