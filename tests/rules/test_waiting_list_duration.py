"""A waiting-list case (inactive, no start date: issue 14) is no period of a duration spell."""

from __future__ import annotations

from rule_data import case, person, person_rule, evaluate_rules  # noqa: F401 - fixture

ACT = "Aktivitetsparat kontanthjælp"
D = "2026-11-01"
DURATION = person_rule(f"{{kind: duration, department: JOB, case_types: [{ACT}], at_least: 1y}}")


def test_a_waiting_list_case_adds_nothing_to_a_spell(evaluate_rules):
    people = [person("0101800001", "1980-01-01")]
    cases = [case("0101800001", "JOB", "2020-01-01", case_type=ACT, case_id="J1"),
             case("0101800001", "JOB", None, "2019-06-30", case_type=ACT, active=False, case_id="J0")]
    con = evaluate_rules(DURATION, people, cases, D)
    assert con.execute("select case_keys from targets").fetchall() == [
        (["job:J1"],)]
