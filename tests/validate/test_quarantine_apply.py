"""quarantine.apply on tiny hand-made tables: quarantined rows leave `cases` and `persons`, and
the cases of a person whose every row was quarantined become unmatched (in_register false).

CPR numbers are synthetic (serials 0001, 0004, 0009).
"""

from __future__ import annotations

from types import SimpleNamespace

from targetgroup.validate import quarantine
from targetgroup.warehouse import open_work

CONFIG = SimpleNamespace(persons=SimpleNamespace(name="persons"))


def _tables(quarantined: list[tuple[str, str, int]]):
    con = open_work(threads=1)
    con.execute("create table persons (cpr varchar, file varchar, line bigint)")
    con.execute("insert into persons values ('0101800001', 'p.csv', 2), ('0303900004', 'p.csv', 5), "
                "('0303900004', 'p.csv', 9)")
    con.execute("create table cases (source varchar, file varchar, line bigint, cpr varchar, in_register boolean)")
    con.execute("insert into cases values ('job', 'j.csv', 2, '0101800001', true), "
                "('job', 'j.csv', 3, '0303900004', true), ('job', 'j.csv', 4, '0909900009', false), "
                "('soc', 's.csv', 2, '0303900004', true), ('soc', 's.csv', 3, '0101800001', true)")
    con.execute("create table quarantine (source varchar, file varchar, line bigint)")
    con.executemany("insert into quarantine values (?, ?, ?)", quarantined)
    quarantine.apply(con, CONFIG)
    return con


def _cases(con) -> list[tuple]:
    return con.execute("select source, line, in_register from cases order by source, line").fetchall()


def test_cases_of_a_quarantined_person_become_unmatched():
    con = _tables([("persons", "p.csv", 5), ("persons", "p.csv", 9), ("job", "j.csv", 2)])
    assert con.execute("select cpr, line from persons").fetchall() == [("0101800001", 2)]
    assert _cases(con) == [("job", 3, False), ("job", 4, False), ("soc", 2, False), ("soc", 3, True)]


def test_a_person_with_one_row_left_stays_matched():
    con = _tables([("persons", "p.csv", 9)])
    assert con.execute("select cpr, line from persons order by line").fetchall() == [("0101800001", 2),
                                                                                   ("0303900004", 5)]
    assert _cases(con) == [("job", 2, True), ("job", 3, True), ("job", 4, False), ("soc", 2, True), ("soc", 3, True)]


def test_only_case_rows_quarantined_leaves_every_match_as_it_was():
    con = _tables([("job", "j.csv", 3)])
    assert con.execute("select count(*) from persons").fetchone() == (3,)
    assert _cases(con) == [("job", 2, True), ("job", 4, False), ("soc", 2, True), ("soc", 3, True)]
