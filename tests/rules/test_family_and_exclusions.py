"""Family rules, exclusions and manual lists on tiny inline data."""

from __future__ import annotations

import pytest

from targetgroup.errors import RulesError
from rule_data import case, flagged, person, person_rule, evaluate_rules  # noqa: F401 - fixture

D = "2026-11-01"
FAMILY = """\
name: t
rules:
  - id: fam
    title_da: F
    title_en: F
    subject: family
    family:
      child: [{kind: departments, all_of: [BUF]}]
      parent: [{kind: departments, all_of: [JOB]}]
      household_adults: HOUSEHOLD
"""


def test_family_linked_only_through_the_father(evaluate_rules):
    people = [person("0101150001", "2015-01-01", "H1", father="0202800002"),
              person("0202800002", "1980-02-02", "H2"),            # father, other household
              person("0303150003", "2015-03-03", "H2", father="0202800002"),  # half-sibling, no BUF case
              person("0404800004", "1980-04-04", "H1")]             # adult in the child's household, no link
    cases = [case("0101150001", "BUF", "2024-01-01"), case("0202800002", "JOB", "2024-01-01"),
             case("0404800004", "JOB", "2024-01-01")]
    con = evaluate_rules(FAMILY.replace("HOUSEHOLD", "false"), people, cases, D)
    rows = con.execute("select cpr, subject_type, subject_id, family_id, reason_codes from targets order by cpr").fetchall()
    assert [r[0] for r in rows] == ["0101150001", "0202800002"]
    assert rows[0][3] == rows[1][3] == rows[0][2] and rows[0][1] == "family"
    assert rows[0][3].startswith("F") and not any(p[0] in rows[0][3] for p in people)
    assert rows[0][4][:2] == ["FAMILY_CHILD", "FAMILY_VIA_FATHER"]
    assert rows[1][4][:2] == ["FAMILY_PARENT", "FAMILY_VIA_FATHER"]


def test_household_adult_without_parent_link_counts_only_when_the_rule_says_so(evaluate_rules):
    people = [person("0101150001", "2015-01-01", "H1"), person("0404800004", "1980-04-04", "H1")]
    cases = [case("0101150001", "BUF", "2024-01-01"), case("0404800004", "JOB", "2024-01-01")]
    assert flagged(evaluate_rules(FAMILY.replace("HOUSEHOLD", "false"), people, cases, D)) == set()
    con = evaluate_rules(FAMILY.replace("HOUSEHOLD", "true"), people, cases, D)
    assert flagged(con) == {"0101150001", "0404800004"}
    assert "FAMILY_VIA_HOUSEHOLD" in con.execute("select reason_codes from targets limit 1").fetchone()[0]


def test_a_child_turning_18_on_d_is_not_a_child(evaluate_rules):
    people = [person("0111080001", "2008-11-01", "H1", mother="0101800002"), person("0101800002", "1980-01-01", "H1")]
    cases = [case("0111080001", "BUF", "2024-01-01"), case("0101800002", "JOB", "2024-01-01")]
    assert flagged(evaluate_rules(FAMILY.replace("HOUSEHOLD", "false"), people, cases, D)) == set()
    assert flagged(evaluate_rules(FAMILY.replace("HOUSEHOLD", "false"), people, cases, "2026-10-31")) == \
        {"0111080001", "0101800002"}


def test_two_children_with_different_mothers_share_the_fathers_family(evaluate_rules):
    people = [person("0101150001", "2015-01-01", "H1", mother="0101800011", father="0202800002"),
              person("0101160003", "2016-01-01", "H3", mother="0101800013", father="0202800002"),
              person("0202800002", "1980-02-02", "H2"), person("0101800011", "1980-01-01", "H1"),
              person("0101800013", "1980-01-01", "H3")]
    cases = [case("0101150001", "BUF", "2024-01-01"), case("0101160003", "BUF", "2024-01-01"),
             case("0202800002", "JOB", "2024-01-01")]
    con = evaluate_rules(FAMILY.replace("HOUSEHOLD", "false"), people, cases, D)
    assert con.execute("select count(*), count(distinct family_id) from targets").fetchone() == (3, 1)


@pytest.mark.parametrize(("mode", "expected"), [("include", {"0101800001", "0101800002"}),
                                                 ("exclude", {"0101800001"}), ("only", {"0101800002"})])
def test_protection_per_rule(evaluate_rules, mode, expected):
    people = [person("0101800001", "1980-01-01"), person("0101800002", "1980-01-01", protected=True)]
    cases = [case(p[0], d, "2020-01-01") for p in people for d in ("JOB", "SOC")]
    rule = person_rule("{kind: departments, at_least: 2}", extra=f"    exclusions: {{protected: {mode}}}\n")
    con = evaluate_rules(rule, people, cases, D)
    assert flagged(con) == expected
    reasons = {r[0] for r in con.execute("select reason_code from exclusions").fetchall()}
    assert reasons == ({"PROTECTED"} if mode == "exclude" else set())


def test_consent_refused_excludes_with_reason(evaluate_rules):
    people = [person("0101800001", "1980-01-01"), person("0101800002", "1980-01-01")]
    cases = [case("0101800001", "JOB", "2020-01-01"), case("0101800001", "SOC", "2020-01-01", consent="refused"),
             case("0101800002", "JOB", "2020-01-01"), case("0101800002", "SOC", "2020-01-01", consent="given")]
    con = evaluate_rules(person_rule("{kind: departments, at_least: 2}"), people, cases, D)
    assert flagged(con) == {"0101800002"}
    assert con.execute("select cpr, reason_code, reason from exclusions").fetchall() == \
        [("0101800001", "CONSENT_REFUSED", "consent refused in soc")]
    ignore = person_rule("{kind: departments, at_least: 2}", extra="    exclusions: {consent_refused: ignore}\n")
    assert flagged(evaluate_rules(ignore, people, cases, D)) == {"0101800001", "0101800002"}


def test_manual_exclusion_and_inclusion_lists(evaluate_rules):
    people = [person(f"010180000{i}", "1980-01-01") for i in range(1, 5)]
    cases = [case(p[0], d, "2020-01-01") for p in people[:2] for d in ("JOB", "SOC")] + \
        [case("0101800003", "JOB", "2020-01-01", case_id="J3"), case("0101800003", "JOB", "2019-01-01", case_id="J2"),
         case("0101800004", "SOC", "2020-01-01", case_id="S4")]
    lists = {"ex.csv": "cpr,rule,reason,added_by\n010180-0001,*,Familien har sagt nej,Søs\n",
             "in.csv": "cpr,rule,reason,added_by\n0101800003,r,Kendt fra netværksmøde,Jens\n0101800009,r,Flyttet?,Jens\n"}
    rule = "manual_exclusions: ex.csv\nmanual_inclusions: in.csv\n" + person_rule("{kind: departments, at_least: 2}")
    con = evaluate_rules(rule, people, cases, D, files=lists)
    assert flagged(con) == {"0101800002", "0101800003"}
    assert con.execute("select reason_codes, departments from targets where cpr = '0101800003'").fetchone() == \
        (["MANUAL_INCLUDE"], ["JOB"])
    # an included citizen's own active cases, sorted, and nobody else's
    assert con.execute("select case_keys from targets where cpr = '0101800003'").fetchone() == (["job:J2", "job:J3"],)
    rows = con.execute("select cpr, action, reason_code, reason, added_by, list_line from exclusions order by cpr").fetchall()
    assert rows == [("0101800001", "exclude", "MANUAL_EXCLUDE", "Familien har sagt nej", "Søs", 2),
                    ("0101800003", "include", "MANUAL_INCLUDE", "Kendt fra netværksmøde", "Jens", 2),
                    ("0101800009", "ignored", "NOT_RESIDENT",
                     "manual inclusion ignored: not alive and resident on the as-of date", "Jens", 3)]


@pytest.mark.parametrize(("text", "field", "line"), [
    ("cpr,rule,reason,added_by\n0101800001,nope,x,y\n", "rule", 2),
    ("cpr,rule,reason,added_by\n0101800001,r,x,y\n12345,r,x,y\n", "cpr", 3),
    ("cpr,rule,reason,added_by\n0101800001,r,,y\n", "reason", 2),
    ("cpr,rule,added_by\n0101800001,r,y\n", "manual_exclusions", 1),
])
def test_broken_manual_list_names_line_and_field(evaluate_rules, text, field, line):
    rule = "manual_exclusions: ex.csv\n" + person_rule("{kind: departments, at_least: 2}")
    with pytest.raises(RulesError) as caught:
        evaluate_rules(rule, [], [], D, files={"ex.csv": text})
    assert caught.value.field == field and caught.value.line == line
    assert "0101800001" not in str(caught.value)
