"""Every condition kind with its boundaries, on tiny inline data."""

from __future__ import annotations

from rule_data import case, flagged, person, person_rule, evaluate_rules  # noqa: F401 - fixture

D = "2026-11-01"
ACT = "Aktivitetsparat kontanthjælp"
DURATION = person_rule(f"{{kind: duration, department: JOB, case_types: [{ACT}], more_than: 8y}}")


def test_departments_at_least_and_all_of(evaluate_rules):
    people = [person("0101800001", "1980-01-01"), person("0101800002", "1980-01-01"), person("0101800003", "1980-01-01")]
    cases = [case("0101800001", "JOB", "2020-01-01"), case("0101800001", "SOC", "2020-01-01"),
             case("0101800002", "JOB", "2020-01-01"), case("0101800002", "BUF", "2020-01-01", active=False),
             case("0101800003", "BUF", "2020-01-01"), case("0101800003", "SOC", "2020-01-01")]
    con = evaluate_rules(person_rule("{kind: departments, at_least: 2}"), people, cases, D)
    assert flagged(con) == {"0101800001", "0101800003"}
    assert con.execute("select reason_codes from targets where cpr = '0101800001'").fetchone()[0] == \
        ["DEPTS_GE_2", "ACTIVE_JOB", "ACTIVE_SOC"]
    con = evaluate_rules(person_rule("{kind: departments, all_of: [BUF, SOC]}"), people, cases, D)
    assert flagged(con) == {"0101800003"}
    con = evaluate_rules(person_rule("{kind: departments, at_least: 1, of: [BUF]}"), people, cases, D)
    assert flagged(con) == {"0101800003"}


def test_departments_are_counted_distinct_and_listed_with_sorted_case_keys(evaluate_rules):
    people = [person(f"010180000{i}", "1980-01-01") for i in range(1, 4)]
    cases = [case("0101800001", "SOC", "2020-01-01", case_id="S9"), case("0101800001", "SOC", "2020-01-01", case_id="S10"),
             case("0101800001", "JOB", "2020-01-01", case_id="J2"), case("0101800001", "BUF", "2020-01-01", case_id="B1"),
             # two departments: one short of three
             case("0101800002", "JOB", "2020-01-01"), case("0101800002", "SOC", "2020-01-01"),
             # three cases, all in one department: one department
             *(case("0101800003", "JOB", "2020-01-01", case_id=f"J{i}") for i in range(3))]
    con = evaluate_rules(person_rule("{kind: departments, at_least: 3}"), people, cases, D)
    assert con.execute("select cpr, departments, case_keys from targets").fetchall() == [
        ("0101800001", ["BUF", "JOB", "SOC"], ["buf:B1", "job:J2", "soc:S10", "soc:S9"])]


def test_case_type_filter(evaluate_rules):
    people = [person("0101800001", "1980-01-01"), person("0101800002", "1980-01-01")]
    cases = [case("0101800001", "JOB", "2020-01-01", case_type=ACT),
             case("0101800002", "JOB", "2020-01-01", case_type="Jobparat kontanthjælp")]
    con = evaluate_rules(person_rule(f"{{kind: case_type, department: JOB, case_types: [{ACT}]}}"), people, cases, D)
    assert flagged(con) == {"0101800001"}
    con = evaluate_rules(person_rule(
        f"{{kind: departments, at_least: 1, of: [JOB], case_types: {{JOB: [{ACT}]}}}}"), people, cases, D)
    assert flagged(con) == {"0101800001"}


def test_duration_exactly_eight_years_is_not_more_than_eight(evaluate_rules):
    people = [person("0101800001", "1980-01-01"), person("0101800002", "1980-01-01")]
    cases = [case("0101800001", "JOB", "2018-11-01", case_type=ACT),   # exactly 8 years on D
             case("0101800002", "JOB", "2018-10-31", case_type=ACT)]   # 8 years and one day
    con = evaluate_rules(DURATION, people, cases, D)
    assert flagged(con) == {"0101800002"}
    assert con.execute("select reason_codes from targets").fetchone()[0] == ["SPELL_JOB_GT_8Y"]
    at_least = person_rule(f"{{kind: duration, department: JOB, case_types: [{ACT}], at_least: 8y}}")
    assert flagged(evaluate_rules(at_least, people, cases, D)) == {"0101800001", "0101800002"}


def test_duration_merges_overlapping_and_adjacent_spells(evaluate_rules):
    people = [person(f"010180000{i}", "1980-01-01") for i in range(1, 5)]
    cases = [
        # adjacent: a closed case ends the day before the active one starts -> one spell since 2015
        case("0101800001", "JOB", "2015-01-01", "2019-12-31", case_type=ACT, active=False),
        case("0101800001", "JOB", "2020-01-01", case_type=ACT),
        # overlapping
        case("0101800002", "JOB", "2015-01-01", "2021-06-30", case_type=ACT, active=False),
        case("0101800002", "JOB", "2020-01-01", case_type=ACT),
        # a gap of one day breaks the spell
        case("0101800003", "JOB", "2015-01-01", "2019-12-30", case_type=ACT, active=False),
        case("0101800003", "JOB", "2020-01-01", case_type=ACT),
        # a long spell that ended before D does not count: nothing runs on D
        case("0101800004", "JOB", "2010-01-01", "2026-10-31", case_type=ACT, active=False),
    ]
    con = evaluate_rules(DURATION, people, cases, D)
    assert flagged(con) == {"0101800001", "0101800002"}
    keys = con.execute("select case_keys from targets where cpr = '0101800001'").fetchone()[0]
    assert len(keys) == 2


def test_age_range_birthday_on_d_and_minor_turning_18(evaluate_rules):
    people = [person("0111100001", "2010-11-01"),   # 16th birthday on D: 16
              person("0211100002", "2010-11-02"),   # still 15 on D
              person("0111080003", "2008-11-01")]   # turns 18 on D: an adult
    cases = [case(p[0], "BUF", "2020-01-01") for p in people]
    con = evaluate_rules(person_rule("{kind: age, min: 16, max: 17}"), people, cases, D)
    assert flagged(con) == {"0111100001"}
    con = evaluate_rules(person_rule("{kind: age, max: 17}"), people, cases, D)
    assert flagged(con) == {"0111100001", "0211100002"}


def test_age_transition_window_is_inclusive(evaluate_rules):
    rule = person_rule("{kind: departments, all_of: [BUF]}", "{kind: age_transition, ages: [16y, 17y6m], within_days: 60}")
    people = [person("0111100001", "2010-11-01"),   # 16 on D
              person("3112100002", "2010-12-31"),   # 16 on D+60
              person("0101110003", "2011-01-01"),   # 16 on D+61: outside
              person("0105090004", "2009-05-01"),   # 17y6m on D
              person("0104090005", "2009-04-01")]   # 17y6m a month before D: passed
    cases = [case(p[0], "BUF", "2020-01-01") for p in people]
    con = evaluate_rules(rule, people, cases, D)
    assert flagged(con) == {"0111100001", "3112100002", "0105090004"}
    codes = con.execute("select reason_codes from targets where cpr = '0105090004'").fetchone()[0]
    assert codes == ["DEPTS_ALL_BUF", "ACTIVE_BUF", "TURNS_17Y6M_IN_60D"]


def test_leap_day_birth_reaches_17_and_a_half_on_29_august_and_18_on_1_march(evaluate_rules):
    people = [person("2902080001", "2008-02-29")]
    cases = [case("2902080001", "BUF", "2020-01-01")]
    half = person_rule("{kind: age_transition, ages: [17y6m], within_days: 0}")
    assert flagged(evaluate_rules(half, people, cases, "2025-08-29")) == {"2902080001"}
    assert flagged(evaluate_rules(half, people, cases, "2025-08-28")) == set()
    # 18 falls in a common year: 29 February does not exist, so the day is 1 March (as tg_age)
    eighteen = person_rule("{kind: age_transition, ages: [18y], within_days: 0}")
    assert flagged(evaluate_rules(eighteen, people, cases, "2026-03-01")) == {"2902080001"}
    assert flagged(evaluate_rules(eighteen, people, cases, "2026-02-28")) == set()
    con = evaluate_rules(person_rule("{kind: age, min: 18}"), people, cases, "2026-03-01")
    assert flagged(con) == {"2902080001"}
    assert flagged(evaluate_rules(person_rule("{kind: age, min: 18}"), people, cases, "2026-02-28")) == set()


def test_dead_and_moved_citizens_are_listed_as_exclusions(evaluate_rules):
    people = [person("0101800001", "1980-01-01", died="2026-11-01"), person("0101800002", "1980-01-01")]
    cases = [case(p[0], d, "2020-01-01") for p in people for d in ("JOB", "SOC")]
    con = evaluate_rules(person_rule("{kind: departments, at_least: 2}"), people, cases, D)
    assert flagged(con) == {"0101800002"}
    assert con.execute("select rule_id, cpr, reason_code from exclusions").fetchall() == [("*", "0101800001", "DEAD")]


def test_duration_started_within_is_inflow_into_a_new_spell_from_d_minus_n_to_d(evaluate_rules):
    # D = 2026-11-01; D - 30 days = 2026-10-02
    people = [person(f"010180000{i}", "1980-01-01") for i in range(1, 8)]
    cases = [case("0101800001", "JOB", "2026-10-02", case_type=ACT),            # exactly 30 days before D
             case("0101800002", "JOB", "2026-10-01", case_type=ACT),            # 31 days: not new
             case("0101800003", "JOB", D, case_type=ACT),                       # starts on D
             # a new case id right after a closed one: the spell began in 2024, not new
             case("0101800004", "JOB", "2024-01-01", "2026-10-19", case_type=ACT, active=False),
             case("0101800004", "JOB", "2026-10-20", case_type=ACT),
             case("0101800005", "JOB", "2026-10-15", case_type="Jobparat kontanthjælp"),  # another type
             case("0101800006", "JOB", "2026-10-15", "2026-10-25", case_type=ACT, active=False),  # ended
             case("0101800007", "SOC", "2026-10-15")]                          # another department
    rule = person_rule(f"{{kind: duration, department: JOB, case_types: [{ACT}], started_within: {{days: 30}}}}")
    con = evaluate_rules(rule, people, cases, D)
    assert flagged(con) == {"0101800001", "0101800003"}
    assert con.execute("select distinct reason_codes from targets").fetchall() == [(["SPELL_JOB_NEW_30D"],)]
    # days: 0 is the cases that started on D itself
    rule = person_rule(f"{{kind: duration, department: JOB, case_types: [{ACT}], started_within: {{days: 0}}}}")
    assert flagged(evaluate_rules(rule, people, cases, D)) == {"0101800003"}


def test_explain_names_the_started_within_bound():
    from targetgroup.rules.explain import _describe
    from targetgroup.rules.model import DurationCondition

    cond = DurationCondition(kind="duration", department="JOB", case_types=[ACT], started_within={"days": 30})
    assert _describe(cond) == f"duration: JOB {ACT}, started within 30d"
    assert _describe(DurationCondition(kind="duration", department="JOB", case_types=[ACT], more_than="8y")) == \
        f"duration: JOB {ACT}, more than 8y"


AREA_SOURCES = {"sources.yaml": __import__("conftest").SOURCES_YAML.replace(
    "moved_away_date: moved}", "moved_away_date: moved, area: omraade}")}


def test_area_in_a_list_of_codes_compared_case_insensitively(tmp_path):
    from rule_data import Evaluator

    evaluate_area = Evaluator(tmp_path, **AREA_SOURCES)
    people = [person("0101800001", "1980-01-01", area="VOLLSMOSE"), person("0101800002", "1980-01-01", area="vollsmose"),
              person("0101800003", "1980-01-01", area="BAKKEN"), person("0101800004", "1980-01-01"),
              person("0101800005", "1980-01-01", area="VOLLSMOSE", died="2026-10-01")]
    con = evaluate_area(person_rule("{kind: area, in: [Vollsmose, Skovparken]}"), people, [], D)
    assert flagged(con) == {"0101800001", "0101800002"}
    assert con.execute("select distinct reason_codes from targets").fetchall() == [(["AREA"],)]
    # a value that would be SQL if it were pasted into the text is one more code to compare
    con = evaluate_area(person_rule("{kind: area, in: [\"x') or true or ('\"]}"), people, [], D)
    assert flagged(con) == set()


def test_the_new_reason_codes_have_words():
    from targetgroup.deliver.texts import reason_text

    assert reason_text("SPELL_JOB_NEW_30D", "en") == "a new spell in JOB within the last 30 days"
    assert reason_text("AREA", "da") == "bor i et af reglens områder"
