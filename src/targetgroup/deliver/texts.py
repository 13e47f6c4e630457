"""Every word a person reads in the deliverables, in Danish (default) and English, in ONE place.

    t("new", "da")                      -> "Ny"
    reason_text("ACTIVE_BUF", "en")     -> "active case in BUF"
    reason_lookup(codes, "da")          -> DataFrame(code, text) to join in SQL

Reason and end-reason codes come from the rules and the register. A code is either exact
("DEPTS_GE_2") or a prefix with an argument ("ACTIVE_BUF" = "ACTIVE_" + department). An
unknown code is shown as it is, so a new rule never breaks a list; add its words here.
"""

from __future__ import annotations

import pandas as pd

LANGS = ("da", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # change of a flag in this run
    "new": ("Ny", "New"),
    "continuing": ("Fortsat", "Continuing"),
    "updated": ("Ændret", "Updated"),
    "ended": ("Afsluttet", "Ended"),
    # consent
    "given": ("givet", "given"),
    "refused": ("afvist", "refused"),
    "unknown": ("ukendt", "unknown"),
    # caseworker list headings
    "col_change": ("Status", "Status"),
    "col_cpr": ("CPR-nr.", "CPR no."),
    "col_name": ("Navn", "Name"),
    "col_age": ("Alder", "Age"),
    "col_caseworker": ("Sagsbehandler", "Caseworker"),
    "col_team": ("Team", "Team"),
    "col_rule": ("Regel", "Rule"),
    "col_reason": ("Begrundelse", "Reason"),
    "col_others": ("Andre forvaltninger (sagsbehandler, team)", "Other departments (caseworker, team)"),
    "col_consent": ("Samtykke", "Consent"),
    "col_since": ("Markeret siden", "Flagged since"),
    "col_ended_on": ("Afsluttet den", "Ended on"),
    "col_end_reason": ("Årsag til afslutning", "Why it ended"),
    "col_family": ("Familie-id", "Family id"),
    "no_team": ("Uden team", "No team"),
    "overview": ("Oversigt", "Overview"),
    "list_title": ("Målgruppe for sammenhængende borgerforløb — {dept} — opgjort {as_of}",
                   "Target group for coordinated courses — {dept} — as of {as_of}"),
    "list_intro": ("Borgere som {dept} allerede har en aktiv sag med, og som også har aktive sager i andre "
                   "forvaltninger. Ét faneblad pr. team. 'Ny' = markeret i denne kørsel; 'Fortsat' = markeret "
                   "før; 'Afsluttet' = opfylder ikke længere reglen (se årsag).",
                   "Citizens {dept} already has an active case with who also have active cases in other "
                   "departments. One sheet per team. 'New' = flagged in this run; 'Continuing' = flagged "
                   "before; 'Ended' = no longer meets the rule (see why)."),
    "sheet": ("Faneblad", "Sheet"),
    "citizens": ("Borgere", "Citizens"),
    "rows": ("Rækker", "Rows"),
    "none": ("ingen", "none"),
    # leadership report
    "report_title": ("Ledelsesinformation: sammenhængende borgerforløb", "Leadership report: coordinated courses"),
    "report_sub": ("Opgjort {as_of} · kørsel {run_id}", "As of {as_of} · run {run_id}"),
    "suppressed_note": ("Alle tal er afrundet til et multiplum af 5 (tilfældigt op eller ned, så små tal ikke kan "
                        "udledes), og totaler afrundes for sig: delene summer derfor ikke altid til totalen. Et tal, "
                        "der ellers kunne regnes ud, er skjult («•»). Kun optællinger: ingen CPR-numre og ingen navne.",
                        "Every count is rounded to a multiple of 5 (at random up or down, so that small counts cannot "
                        "be worked out), and totals are rounded on their own: parts need not add up to the total. A "
                        "count that could still be worked out is hidden («•»). Counts only: no CPR numbers, no names."),
    "kpi_size": ("Borgere i målgruppen", "Citizens in the target group"),
    "kpi_new": ("Nye forløb i denne kørsel", "New courses this run"),
    "kpi_ended": ("Afsluttede forløb i denne kørsel", "Courses ended this run"),
    "kpi_ongoing": ("Igangværende forløb", "Ongoing courses"),
    "sec_size": ("Målgruppens størrelse over tid", "Target-group size over time"),
    "sec_flow": ("Nye og afsluttede forløb pr. kørsel", "New and ended courses per run"),
    "sec_combo": ("Borgere efter kombination af forvaltninger", "Citizens by combination of departments"),
    "sec_dept": ("Borgere pr. forvaltning", "Citizens per department"),
    "sec_rule": ("Borgere pr. regel", "Citizens per rule"),
    "sec_duration": ("Varighed af sammenhængende forløb", "Duration of coordinated courses"),
    "sec_team": ("Igangværende forløb pr. team (tovholderens team)", "Ongoing courses per team (the coordinator's team)"),
    "sec_coord": ("Tovholdere efter antal forløb", "Coordinators by number of courses"),
    "coord_note": ("Tovholder = sagsbehandleren i den forvaltning, der har haft borgeren længst blandt dem bag "
                   "markeringen (tidligste startdato for en aktiv sag; ved lighed forvaltningskoden).",
                   "Coordinator = the caseworker in the department that has served the citizen longest among "
                   "those behind the flag (earliest start of an active case; ties by department code)."),
    "ongoing": ("Igangværende", "Ongoing"),
    "ended_courses": ("Afsluttede", "Ended"),
    "total": ("I alt", "Total"),
    "group": ("Gruppe", "Group"),
    "count": ("Antal", "Count"),
    "run": ("Kørsel", "Run"),
    "as_of": ("Opgjort", "As of"),
    "no_history": ("Kun én kørsel indtil nu: kurven vokser med de næste kørsler.",
                   "Only one run so far: the chart grows with the next runs."),
    "no_data": ("Ingen data.", "No data."),
    "dur_lt3m": ("under 3 mdr.", "under 3 months"),
    "dur_3_6m": ("3-6 mdr.", "3-6 months"),
    "dur_6_12m": ("6-12 mdr.", "6-12 months"),
    "dur_1_2y": ("1-2 år", "1-2 years"),
    "dur_ge2y": ("2 år og mere", "2 years or more"),
    "coord_1": ("1 forløb", "1 course"),
    "coord_2": ("2 forløb", "2 courses"),
    "coord_3_4": ("3-4 forløb", "3-4 courses"),
    "coord_5p": ("5 eller flere", "5 or more"),
    "coordinators": ("Tovholdere", "Coordinators"),
    "courses": ("Forløb", "Courses"),
    "generated": ("Dannet af targetgroup", "Made by targetgroup"),
    "rule_set": ("regelsæt", "rule set"),
}

# Rule titles known without a rules engine; the run can pass its own (pipeline: summary["rule_titles"]).
RULE_TITLES: dict[str, tuple[str, str]] = {
    "default.two_departments": ("Aktive sager i mindst to forvaltninger", "Active cases in at least two departments"),
}

# Reason codes: exact codes, and prefixes whose remainder is filled into {arg}.
REASONS: dict[str, tuple[str, str]] = {
    "DEPTS_GE_2": ("aktive sager i mindst to forvaltninger", "active cases in at least two departments"),
    "no_longer_met": ("opfylder ikke længere reglen", "no longer meets the rule"),
    "died": ("død", "died"),
    "moved_away": ("fraflyttet kommunen", "moved away"),
    "turned_18": ("fyldt 18 år", "turned 18"),
    "removed_by_caseworker": ("fjernet af sagsbehandler", "removed by caseworker"),
    "rule_removed": ("reglen findes ikke længere", "the rule no longer exists"),
    # end reasons as the flag register words them (sql/register/compare.sql)
    "removed by caseworker": ("fjernet af sagsbehandler", "removed by caseworker"),
    "a family member died": ("et familiemedlem er død", "a family member died"),
    "moved away": ("fraflyttet kommunen", "moved away"),
    "a family member moved away": ("et familiemedlem er fraflyttet", "a family member moved away"),
    "no longer in the CPR register extract": ("ikke længere i CPR-udtrækket", "no longer in the CPR register extract"),
    "turned 18": ("fyldt 18 år", "turned 18"),
    "a child in the family turned 18": ("et barn i familien er fyldt 18 år", "a child in the family turned 18"),
    "no longer meets the rule": ("opfylder ikke længere reglen", "no longer meets the rule"),
    "rule set changed": ("regelsættet er ændret", "rule set changed"),
    "no longer part of the family flag": ("ikke længere en del af familiens markering",
                                          "no longer part of the family flag"),
}
REASON_PREFIXES: dict[str, tuple[str, str]] = {
    "ACTIVE_": ("aktiv sag i {arg}", "active case in {arg}"),
    "DEPTS_GE_": ("aktive sager i mindst {arg} forvaltninger", "active cases in at least {arg} departments"),
    "CASE_CLOSED_": ("sagen i {arg} er lukket", "case closed in {arg}"),
    "case_closed:": ("sagen i {arg} er lukket", "case closed in {arg}"),
    "case closed in ": ("sagen i {arg} er lukket", "case closed in {arg}"),
    "merged into family flag ": ("lagt sammen med familiemarkering {arg}", "merged into family flag {arg}"),
}


def _index(lang: str) -> int:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return LANGS.index(lang)


def t(key: str, lang: str = "da", **fmt: object) -> str:
    """The text for `key` in `lang`, formatted with `fmt`."""
    text = TEXTS[key][_index(lang)]
    return text.format(**fmt) if fmt else text


def reason_text(code: str, lang: str = "da") -> str:
    """One reason or end-reason code in words; unknown codes are returned unchanged."""
    i = _index(lang)
    if code in REASONS:
        return REASONS[code][i]
    for prefix, words in REASON_PREFIXES.items():
        if code.startswith(prefix) and len(code) > len(prefix):
            return words[i].format(arg=code[len(prefix):])
    return code


def reason_lookup(codes: list[str], lang: str = "da") -> pd.DataFrame:
    """A (code, text) table for the distinct codes of a run, to join in SQL."""
    distinct = sorted({c for c in codes if c is not None})
    return pd.DataFrame({"code": pd.Series(distinct, dtype="string"),
                         "text": pd.Series([reason_text(c, lang) for c in distinct], dtype="string")})


def rule_title(rule_id: str, lang: str = "da", titles: dict[str, dict[str, str]] | None = None) -> str:
    """A rule's title: from the run's rule set if given, else the built-in ones, else the id."""
    if titles and rule_id in titles and titles[rule_id].get(lang):
        return titles[rule_id][lang]
    if rule_id in RULE_TITLES:
        return RULE_TITLES[rule_id][_index(lang)]
    return rule_id


def word_lookup(keys: list[str], lang: str = "da") -> pd.DataFrame:
    """A (code, text) table of plain words such as change and consent codes, to join in SQL."""
    return pd.DataFrame({"code": pd.Series(keys, dtype="string"),
                         "text": pd.Series([t(k, lang) for k in keys], dtype="string")})
