"""The words of the notices, in Danish (default) and English: subject, plain text and HTML.

Every text is made from counts, dates, department names, run ids and folder paths only: a
notice never holds a CPR number, a citizen's name, a case id or a case detail (tests check each
received mail against the run's extracts). `Notice` is what `delivery.mail` sends.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

COUNTS = ("new", "updated", "ended", "awaiting")
WORDS = {
    "da": {
        "new": "nye", "updated": "opdaterede", "ended": "afsluttede", "awaiting": "afventer samtykke",
        "dept_subject": "Målgruppeliste {as_of}: {name} ({code})",
        "cw_subject": "Målgruppeliste {as_of}: dine borgere i {name} ({code})",
        "dept_intro": "Nattens kørsel ({as_of}) har ændringer for {name}:",
        "cw_intro": "Nattens kørsel ({as_of}) har ændringer for borgere, du er sagsbehandler for i {name}:",
        "where": "Listen ligger her:",
        "todo": ("Åbn listen (flags_{code}.xlsx) og se rækkerne markeret som nye, opdaterede eller afsluttede. "
                 "Nye borgere: overvej at tilbyde et sammenhængende borgerforløb og tal med de andre "
                 "forvaltninger. Afsluttede: afslut eller tilpas forløbet. Afventer samtykke: indhent "
                 "borgerens samtykke, før oplysninger deles."),
        "footer": ("Denne mail indeholder kun antal. Personoplysninger står kun i listen, som kun "
                   "jeres forvaltning har adgang til. Svar ikke på denne mail."),
        "ops_ok_subject": "targetgroup {as_of}: kørsel {run_id} gemt",
        "ops_ok": "Kørslen {run_id} for {as_of} er gemt. Levering: {state}.",
        "ops_fail_subject": "targetgroup {as_of}: natlig kørsel fejlede",
        "ops_fail": "Den natlige kørsel for {as_of} fejlede; intet blev gemt.\nÅrsag: {cause}",
        "ops_pending_subject": "targetgroup {as_of}: levering af kørsel {run_id} afventer",
        "ops_pending": ("Kørslen {run_id} for {as_of} er gemt, men {n} leveringer afventer: {what}.\n"
                        "Sidste fejl: {cause}\nPrøv igen med: targetgroup deliver --run {run_id}"),
    },
    "en": {
        "new": "new", "updated": "updated", "ended": "ended", "awaiting": "awaiting consent",
        "dept_subject": "Target-group list {as_of}: {name} ({code})",
        "cw_subject": "Target-group list {as_of}: your citizens in {name} ({code})",
        "dept_intro": "Last night's run ({as_of}) has changes for {name}:",
        "cw_intro": "Last night's run ({as_of}) has changes for citizens whose caseworker you are in {name}:",
        "where": "The list is here:",
        "todo": ("Open the list (flags_{code}.xlsx) and look at the rows marked new, updated or ended. "
                 "New citizens: consider offering a coordinated course and talk to the other departments. "
                 "Ended: end or adjust the course. Awaiting consent: obtain the citizen's consent before "
                 "anything is shared."),
        "footer": ("This mail holds counts only. Personal data is only in the list, which only your "
                   "department can open. Do not reply to this mail."),
        "ops_ok_subject": "targetgroup {as_of}: run {run_id} stored",
        "ops_ok": "The run {run_id} for {as_of} is stored. Delivery: {state}.",
        "ops_fail_subject": "targetgroup {as_of}: the nightly run failed",
        "ops_fail": "The nightly run for {as_of} failed; nothing was stored.\nCause: {cause}",
        "ops_pending_subject": "targetgroup {as_of}: delivery of run {run_id} pending",
        "ops_pending": ("The run {run_id} for {as_of} is stored, but {n} deliveries are pending: {what}.\n"
                        "Last error: {cause}\nRetry with: targetgroup deliver --run {run_id}"),
    },
}


@dataclass(frozen=True)
class Notice:
    """One mail's words: subject, plain text and the HTML alternative."""

    subject: str
    text: str
    html: str


def has_changes(counts: dict[str, int]) -> bool:
    """Whether any of new, updated, ended, awaiting consent is above zero."""
    return any(int(counts.get(k, 0)) > 0 for k in COUNTS)


def list_notice(lang: str, as_of: date, code: str, name: str, counts: dict[str, int], where: str,
                caseworker: bool = False) -> Notice:
    """A department's (or, with `caseworker`, one caseworker's) notice: counts, folder, what to do."""
    w = WORDS[lang]
    fill = {"as_of": as_of.isoformat(), "code": code, "name": name}
    subject = w["cw_subject" if caseworker else "dept_subject"].format(**fill)
    intro = w["cw_intro" if caseworker else "dept_intro"].format(**fill)
    lines = [(w[k], int(counts.get(k, 0))) for k in COUNTS]
    todo = w["todo"].format(**fill)
    text = "\n".join([intro, "", *(f"  {label}: {n}" for label, n in lines), "", w["where"], f"  {where}", "",
                      todo, "", "-- ", w["footer"], ""])
    e = html.escape
    rows = "".join(f"<tr><td>{e(label)}</td><td style=\"text-align:right\">{n}</td></tr>" for label, n in lines)
    body = (f"<!doctype html><html lang=\"{lang}\"><body><p>{e(intro)}</p><table>{rows}</table>"
            f"<p>{e(w['where'])}<br><code>{e(where)}</code></p><p>{e(todo)}</p>"
            f"<p style=\"color:#555\">{e(w['footer'])}</p></body></html>")
    return Notice(subject, text, body)


def operations_notice(lang: str, kind: str, as_of: date, run_id: str = "", **fill: object) -> Notice:
    """Operations' mail: `kind` 'ok' (summary), 'fail' (a failed nightly) or 'pending' (delivery)."""
    w = WORDS[lang]
    values = {"as_of": as_of.isoformat(), "run_id": run_id, **fill}
    subject = w[f"ops_{kind}_subject"].format(**values)
    text = w[f"ops_{kind}"].format(**values) + "\n"
    body = f"<!doctype html><html lang=\"{lang}\"><body><pre>{html.escape(text)}</pre></body></html>"
    return Notice(subject, text, body)
