"""Every word a person reads in the deliverables, in Danish (default) and English, in ONE place.

    t("new", "da")                      -> "Ny"
    reason_text("ACTIVE_BUF", "en")     -> "active case in BUF"
    reason_lookup(codes, "da")          -> DataFrame(code, text) to join in SQL

Reason and end-reason codes come from the rules and the register. A code is either exact
("DEPTS_GE_2") or a prefix with an argument ("ACTIVE_BUF" = "ACTIVE_" + department). An
unknown code is shown as it is, so a new rule never breaks a list; add its words here.
"""

from __future__ import annotations

import re

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
    "withdrawn": ("trukket tilbage", "withdrawn"),
    "unknown": ("ukendt", "unknown"),
    "until": ("til", "until"),
    "awaiting": ("Afventer samtykke", "Awaiting consent"),
    "awaiting_reason": ("reglen kræver samtykke, og der er ikke givet samtykke",
                        "the rule requires consent, and no consent is given"),
    "not_shown_no_consent": ("ikke vist (intet samtykke)", "not shown (no consent)"),
    "years": ("år", "years"),
    "rel_mother": ("mor", "mother"),
    "rel_father": ("far", "father"),
    "rel_child": ("barn", "child"),
    "rel_sibling": ("søskende", "sibling"),
    "rel_coparent": ("medforælder", "co-parent"),
    "rel_household": ("husstand", "household"),
    "all_rules": ("alle regler", "all rules"),
    "action_exclude": ("undtaget", "excluded"),
    "action_include": ("tilføjet manuelt", "included by hand"),
    "action_ignored": ("ikke brugt", "not used"),
    "action_await": ("afventer samtykke", "awaiting consent"),
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
    "col_flag": ("Markerings-id", "Flag id"),
    "col_relatives": ("Familie: markerede medlemmer (forvaltning: sagsbehandler, team)",
                      "Family: flagged members (department: caseworker, team)"),
    "col_transition_due": ("Overgang (16 / 17½ år) den", "Age transition (16 / 17½) on"),
    "col_review_due": ("Revurderes senest", "Review due"),
    "col_overdue_meeting": ("Overskredet møde", "Overdue meeting"),
    "col_rules_name": ("Regelsæt", "Rule set"),
    "col_rules_hash": ("Regelsættets hash", "Rule set hash"),
    "col_action": ("Handling", "Action"),
    "col_added_by": ("Tilføjet af", "Added by"),
    "col_list_file": ("Liste", "List file"),
    "col_list_line": ("Linje", "Line"),
    "col_notice": ("Besked", "Notice"),
    "col_detail": ("Detaljer", "Detail"),
    "rule_set_label": ("Regelsæt", "Rule set"),
    "list_statuses": ("Status: 'Ny' = markeret for første gang i denne kørsel. 'Fortsat' = markeret før og "
                      "uændret. 'Ændret' = markeret før, men forvaltninger eller familiemedlemmer bag "
                      "markeringen har ændret sig. 'Afsluttet' = markeringen er afsluttet i denne kørsel "
                      "(årsag i kolonnen 'Årsag til afslutning'). 'Afventer samtykke' = opfylder en regel, "
                      "der kræver samtykke, men borgeren har ikke givet samtykke: ikke markeret.",
                      "Status: 'New' = flagged for the first time in this run. 'Continuing' = flagged before "
                      "and unchanged. 'Updated' = flagged before, but the departments or family members "
                      "behind the flag changed. 'Ended' = the flag ended in this run (see 'Why it ended'). "
                      "'Awaiting consent' = meets a rule that requires consent, but the citizen has not "
                      "given it: not flagged."),
    # notices
    "notice_new": ("Ny markering", "New flag"),
    "notice_updated": ("Markering ændret", "Flag updated"),
    "flag_ended": ("Markering afsluttet", "Flag ended"),
    "notice_ended": ("Markering afsluttet", "Flag ended"),
    "meeting_16": ("overgangsmøde 16 år, skulle holdes", "transition meeting at 16, due"),
    "meeting_17_5": ("overgangsmøde 17½ år, skulle holdes", "transition meeting at 17½, due"),
    "meeting_review": ("revurderingsmøde, skulle holdes", "review meeting, due"),
    "notice_case_closed": ("Sag lukket i anden forvaltning", "Case closed in another department"),
    "case_closed_detail": ("sagen i {dept} er lukket (sagsbehandler {caseworker}, team {team})",
                           "case closed in {dept} (caseworker {caseworker}, team {team})"),
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
    "sec_caseload": ("Belastning mod kapacitet", "Caseload against capacity"),
    "cl_coordinators": ("Tovholdere (kapacitet {n} forløb)", "Coordinators (capacity {n} courses)"),
    "cl_count": ("Antal", "Number"),
    "cl_over": ("over kapaciteten (mere end {n} igangværende forløb)", "over capacity (more than {n} ongoing courses)"),
    "cl_within": ("inden for kapaciteten (højst {n})", "within capacity (at most {n})"),
    "cl_team": ("Team", "Team"),
    "cl_capacity": ("Kapacitet", "Capacity"),
    "cl_share": ("Andel af kapaciteten", "Share of capacity"),
    "cl_note": ("Kapaciteten er den, kommunen har sat i sources.yaml (caseload:). Tallene er afrundet som "
                "resten af rapporten; et teams andel er regnet af det viste (afrundede) tal, og et skjult tal "
                "vises som •.",
                "The capacity is the municipality's own, set in sources.yaml (caseload:). Counts are rounded like "
                "the rest of the report; a team's share is worked out from the count shown (rounded), and a "
                "hidden count shows as •."),
    "sec_team": ("Igangværende forløb pr. team (tovholderens team)", "Ongoing courses per team (the coordinator's team)"),
    "sec_coord": ("Tovholdere efter antal forløb", "Coordinators by number of courses"),
    "coord_note": ("Tovholder = den tovholder, en sagsbehandler har registreret for forløbet (targetgroup "
                   "coordinator eller afdelingens fil). Kun hvor ingen er registreret, gættes der: sagsbehandleren i "
                   "den forvaltning, der har haft borgeren længst blandt dem bag markeringen (tidligste startdato "
                   "for en aktiv sag; ved lighed forvaltningskoden). Tabellen viser, hvor mange der er gættet.",
                   "Coordinator = the coordinator a caseworker recorded for the course (targetgroup coordinator or "
                   "the department's file). Only where none is recorded is it guessed: the caseworker in the "
                   "department that has served the citizen longest among those behind the flag (earliest start "
                   "of an active case; ties by department code). The table shows how many are guessed."),
    "coord_source": ("Tovholder", "Coordinator"),
    "sec_meetings": ("Overgangs- og revurderingsmøder", "Transition and review meetings"),
    "mt_meetings": ("Møder", "Meetings"),
    "mt_due": ("skal holdes (forfaldne og næste 90 dage)", "due (so far, and in the next 90 days)"),
    "mt_held": ("heraf holdt", "of which held"),
    "mt_overdue": ("overskredet (dagen er nået, intet møde holdt)", "overdue (due date reached, none held)"),
    "mt_note": ("Et møde skal holdes på overgangsdatoen (16 eller 17½ år) eller revurderingsdatoen for en "
                "igangværende markering; tallet dækker de igangværende forløbs møder, der er forfaldet eller "
                "forfalder inden for 90 dage. Det tæller som holdt, når en sagsbehandler har registreret et møde af "
                "den slags for forløbet, holdt højst 90 dage før datoen (targetgroup meeting eller forvaltningens "
                "fil). Et møde, der ikke er holdt, forbliver overskredet efter datoen, indtil det holdes, eller "
                "forløbet slutter (16 og 17½ år: indtil borgeren ikke længere er markeret eller fylder 18).",
                "A meeting is due on a current flag's age-transition date (16 or 17½) or review date; the count "
                "covers the ongoing courses' meetings due so far and in the next 90 days. It counts "
                "as held when a caseworker recorded a meeting of that kind for the course, held at most 90 days "
                "before the date (targetgroup meeting or the department's file). A meeting not held stays "
                "overdue after its date until it is held or the course ends (16 and 17½: until the citizen "
                "is no longer flagged or turns 18)."),
    "coord_recorded": ("registreret", "recorded"),
    "coord_guessed": ("gættet (ingen registreret)", "guessed (none recorded)"),
    "coord_none": ("ingen fundet", "none found"),
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
    # outcomes after a course ends (docs/outcomes.md)
    "sec_outcomes": ("Udfald efter forløb", "Outcomes"),
    "outcomes_note": ("Borgere fulgt 3, 6 og 12 måneder efter, at et forløb sluttede (kohorte = kvartalet, forløbet "
                      "sluttede i). Sammenligningsgruppen er borgere, der opfyldte en regel, men hvis markering en "
                      "sagsbehandler fjernede, eller som ikke gav samtykke. Tallene beskriver; de viser ikke, hvad "
                      "forløbet har gjort: grupperne er ikke ens fra starten. Et tidspunkt vises først, når hele "
                      "kvartalet har nået det.",
                      "Citizens followed 3, 6 and 12 months after a course ended (cohort = the quarter it ended in). "
                      "The comparison group: citizens who met a rule but whose flag a caseworker removed, or who did "
                      "not give consent. The figures describe; they do not show what the course achieved: the groups "
                      "differ from the start. A horizon is shown once the whole quarter has reached it."),
    "outcomes_none": ("Ingen afsluttede forløb endnu.", "No ended courses yet."),
    "oc_ended": ("Afsluttede forløb", "Ended courses"),
    "oc_comparison": ("Sammenligningsgruppe (beskrivende)", "Comparison group (descriptive)"),
    "oc_cohort": ("Kohorte", "Cohort"),
    "oc_after": ("Efter", "After"),
    "oc_months": ("{n} mdr.", "{n} months"),
    "oc_size": ("Antal", "Size"),
    "oc_followed": ("Fulgt (bor her)", "Followed (resident)"),
    "oc_back_in_group": ("I målgruppen igen", "Back in target group"),
    "oc_departments_0": ("0 forv.", "0 depts"),
    "oc_departments_1": ("1 forv.", "1 dept"),
    "oc_departments_2p": ("2+ forv.", "2+ depts"),
    "oc_benefit": ("På ydelse", "On a benefit"),
    "oc_education": ("I uddannelse/vejledning", "In education/guidance"),
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
    # rule reason codes (rules/compile.py, sql/rules/*.sql; docs/rules.md)
    "FAMILY_CHILD": ("barn i familien", "child in the family"),
    "FAMILY_PARENT": ("forælder i familien", "parent in the family"),
    "FAMILY_VIA_MOTHER": ("via mor", "via the mother"),
    "FAMILY_VIA_FATHER": ("via far", "via the father"),
    "FAMILY_VIA_HOUSEHOLD": ("via husstanden", "via the household"),
    "PROTECTED": ("navne- og adressebeskyttelse", "name and address protection"),
    "AREA": ("bor i et af reglens områder", "lives in one of the rule's areas"),
    "MANUAL_INCLUDE": ("tilføjet manuelt", "included by hand"),
    "MANUAL_EXCLUDE": ("undtaget manuelt", "excluded by hand"),
    "DEAD": ("død", "died"),
    "MOVED_AWAY": ("fraflyttet kommunen", "moved away"),
    "NOT_RESIDENT": ("ikke bosat i kommunen på opgørelsesdatoen", "not resident on the as-of date"),
    "CONSENT_REFUSED": ("samtykke afvist eller trukket tilbage", "consent refused or withdrawn"),
    "AWAITING_CONSENT": ("afventer samtykke (reglen kræver samtykke)", "awaiting consent (the rule requires it)"),
}

# Reason codes with arguments: (pattern, Danish, English); groups are filled in by name.
REASON_PATTERNS: list[tuple[str, str, str]] = [
    (r"DEPTS_ALL_(?P<depts>[A-Z0-9_]+)", "aktive sager i {depts}", "active cases in {depts}"),
    (r"DEPTS_GE_(?P<n>\d+)_OF_(?P<depts>[A-Z0-9_]+)", "aktive sager i mindst {n} af {depts_or}",
     "active cases in at least {n} of {depts_or}"),
    (r"CASETYPE_(?P<dept>[A-Z0-9]+)", "sag af en af reglens sagstyper i {dept}",
     "a case of one of the rule's case types in {dept}"),
    (r"SPELL_(?P<dept>[A-Z0-9]+)_GT_(?P<period>\w+)", "sammenhængende forløb i {dept} i mere end {period}",
     "a continuous spell in {dept} of more than {period}"),
    (r"SPELL_(?P<dept>[A-Z0-9]+)_GE_(?P<period>\w+)", "sammenhængende forløb i {dept} i mindst {period}",
     "a continuous spell in {dept} of at least {period}"),
    (r"SPELL_(?P<dept>[A-Z0-9]+)_NEW_(?P<period>\w+)", "nyt forløb i {dept} inden for de seneste {period}",
     "a new spell in {dept} within the last {period}"),
    (r"AGE_GE_(?P<n>\d+)", "mindst {n} år", "aged {n} or more"),
    (r"AGE_LE_(?P<n>\d+)", "højst {n} år", "aged {n} or less"),
    (r"AGE_(?P<n>\d+)_(?P<m>\d+)", "{n}-{m} år", "aged {n} to {m}"),
    (r"PERSISTENT_(?P<n>\d+)_RUNS", "opfyldt i {n} kørsler i træk", "met in {n} runs in a row"),
    (r"TURNS_(?P<period>\w+?)_IN_(?P<n>\d+)D", "fylder {period} inden for {n} dage",
     "turns {period} within {n} days"),
]
PERIOD_UNITS = {"Y": ("år", "years"), "M": ("mdr.", "months"), "D": ("dage", "days")}
AND = ("og", "and")
OR = ("eller", "or")

# Words of the register's change texts ("updated: SOC left; 1 member left"), part by part.
CHANGE_PATTERNS: list[tuple[str, str, str]] = [
    (r"(?P<depts>[A-Z0-9, ]+) joined", "{depts} er kommet til", "{depts} joined"),
    (r"(?P<depts>[A-Z0-9, ]+) left", "{depts} er faldet fra", "{depts} left"),
    (r"1 member added", "1 medlem er kommet til", "1 member added"),
    (r"(?P<n>\d+) members added", "{n} medlemmer er kommet til", "{n} members added"),
    (r"1 member left", "1 medlem er faldet fra", "1 member left"),
    (r"(?P<n>\d+) members left", "{n} medlemmer er faldet fra", "{n} members left"),
    (r"merged with family flag (?P<ids>.+)", "lagt sammen med familiemarkering {ids}", "merged with family flag {ids}"),
    (r"split from family flag (?P<ids>.+)", "udskilt fra familiemarkering {ids}", "split from family flag {ids}"),
    (r"removal (?P<id>\S+) expired", "fjernelse {id} er udløbet", "removal {id} expired"),
    (r"(?P<depts>[A-Z0-9, ]+) involved after removal (?P<id>\S+)", "{depts} involveret efter fjernelse {id}",
     "{depts} involved after removal {id}"),
]
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
    for pattern, da, en in REASON_PATTERNS:
        match = re.fullmatch(pattern, code)
        if match:
            return (da, en)[i].format(**_arguments(match.groupdict(), i))
    for prefix, words in REASON_PREFIXES.items():
        if code.startswith(prefix) and len(code) > len(prefix):
            return words[i].format(arg=code[len(prefix):])
    return code


def _arguments(groups: dict[str, str], i: int) -> dict[str, str]:
    """Reason-code arguments in words: department lists joined, periods such as 17Y6M spelled out."""
    out = dict(groups)
    if "depts" in groups:
        names = groups["depts"].split("_")
        out["depts"] = _join(names, AND[i])
        out["depts_or"] = _join(names, OR[i])
    if "period" in groups:
        parts = re.findall(r"(\d+)([YMD])", groups["period"])
        out["period"] = " ".join(f"{n} {PERIOD_UNITS[u][i]}" for n, u in parts) or groups["period"]
    return out


def _join(names: list[str], word: str) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {word} " + names[-1]


def change_text(text: str | None, lang: str = "da") -> str | None:
    """The register's change text of an updated or new flag in words of `lang`."""
    if not text:
        return text
    i = _index(lang)
    body = text.split(": ", 1)[1] if text.startswith(("updated: ", "new: ")) else text
    parts = []
    for part in body.split("; "):
        for pattern, da, en in CHANGE_PATTERNS:
            match = re.fullmatch(pattern, part)
            if match:
                parts.append((da, en)[i].format(**match.groupdict()))
                break
        else:
            parts.append(part)
    return "; ".join(parts)


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
