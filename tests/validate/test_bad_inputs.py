"""The bad-input corpus: every file in bad_inputs/ gets its exact outcome (docs/quality.md).

Each bad night runs after a committed good night; a stopped run leaves the warehouse file
byte-identical (sha256).
"""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from targetgroup.errors import InputError, ValidationError

pytestmark = pytest.mark.slow


def stopped(n, exc_type):
    with pytest.raises(exc_type) as info:
        n.run()
    assert n.warehouse_unchanged()
    return str(info.value)


def report_rows(run) -> list[dict]:
    with (run.report_dir / "quarantine.csv").open(encoding="utf-8-sig") as fh:
        # the rule set's name and hash close every row (issue 12); the rest is the gate's
        return [{k: v for k, v in r.items() if k not in ("rules_name", "rules_hash")} for r in csv.DictReader(fh)]



# --- stopped before staging: the file cannot be read as configured -------------------------

def test_wrong_delimiter(night):
    msg = stopped(night({"job.csv": "job_wrong_delimiter.csv"}), InputError)
    assert "job.csv:1 (source job): mapped column(s) missing" in msg
    assert "not separated by ','" in msg


def test_latin1_read_as_utf8(night):
    msg = stopped(night({"job.csv": "job_latin1_as_utf8.csv"}), InputError)
    assert "job.csv:2 (source job): bytes that are not valid in the configured encoding" in msg
    assert "set encoding: latin-1" in msg


def test_utf8_read_as_latin1_is_detected(night):
    msg = stopped(night({"buf.csv": "buf_utf8_as_latin1.csv"}), InputError)
    assert "buf.csv:1 (source buf): the text looks like UTF-8 read as latin-1" in msg
    assert "set encoding: utf-8" in msg


def test_empty_file(night):
    msg = stopped(night({"job.csv": "job_empty.csv"}), InputError)
    assert "job.csv:1 (source job): the file is empty (no header line)" in msg


def test_required_column_missing(night):
    msg = stopped(night({"job.csv": "job_missing_column.csv"}), InputError)
    assert "job.csv:1 (source job): mapped column(s) missing: status -> 'status'" in msg


def test_file_cut_off_mid_line(night):
    msg = stopped(night({"job.csv": "job_cut_off.csv"}), InputError)
    assert "job.csv:6 (source job): the line has fewer fields than the header" in msg


# --- stopped by the gate ---------------------------------------------------------------------

def test_dd_mm_yyyy_where_iso_is_configured(night):
    msg = stopped(night({"job.csv": "job_ddmmyyyy.csv"}), ValidationError)
    assert "source job: types_parse: 5 of 5 rows cannot be parsed (100%, more than the 5% allowed)" in msg
    assert "job.csv:2 start_date: start date is not a date in %Y-%m-%d" in msg
    assert "01-01-2020" not in msg   # the cell itself is never quoted (issue 11)


def test_header_only(night):
    msg = stopped(night({"job.csv": "job_header_only.csv"}), ValidationError)
    assert "source job: row_count: 0 rows, at least 1 expected" in msg
    assert "volume guard: source job: the extract is empty (0 rows)" in msg


def test_person_extract_with_two_rows_for_one_cpr(night):
    msg = stopped(night({"persons.csv": "persons_two_rows_one_cpr.csv"}), ValidationError)
    assert "source persons: cpr_unique: 2 row(s) found" in msg
    assert "persons.csv:5 (030390-****): the CPR is on 2 rows" in msg
    assert "persons.csv:9 (030390-****)" in msg
    assert "0303900004" not in msg


def test_half_of_last_nights_extract_stops_the_run(night):
    n = night({"job.csv": "job_half.csv"})
    msg = stopped(n, ValidationError)
    assert "volume guard: source job: rows dropped from 5 to 2 (60%, more than the 20% allowed)" in msg
    assert "--allow-drop" in msg
    # nothing ended: the last committed run is still the good night
    con = duckdb.connect(str(n.warehouse), read_only=True)
    assert con.execute("select count(*), max(as_of) from runs").fetchone()[0] == 1


# the configured threshold decides, not a fixed one; rows and active cases each stop a run alone
@pytest.mark.parametrize(("extract", "threshold", "problem"), [
    # 60 % fewer rows: more than a 50 % threshold allows, less than a 70 % one
    ("job_half.csv", 0.5, "rows dropped from 5 to 2 (60%, more than the 50% allowed)"),
    ("job_half.csv", 0.7, None),
    # the same 5 rows, but 3 of the 4 cases active last night arrive closed (J5 ended on its own)
    ("job_cases_closed.csv", 0.2, "active cases dropped from 4 to 1 (75%, more than the 20% allowed)"),
    ("job_cases_closed.csv", 0.8, None),
])
def test_volume_guard_threshold_and_halves(night, extract, threshold, problem):
    n = night({"job.csv": extract}, quality=f"quality: {{volume_drop: {threshold}}}\n")
    if problem is None:
        assert not [w for w in n.run().manifest["quality"]["warnings"] if "volume guard" in w]
        return
    msg = stopped(n, ValidationError)
    assert f"volume guard: source job: {problem}" in msg
    assert msg.count("dropped from") == 1


def test_allow_drop_lets_the_half_extract_through(night):
    run = night({"job.csv": "job_half.csv"}, allow_drop=("job",)).run()
    assert any("allowed by --allow-drop" in w for w in run.manifest["quality"]["warnings"])


def test_severity_override_makes_a_warning_an_error(night):
    quality = "quality:\n  severity: {job.dates_ordered: error}\n"
    msg = stopped(night({"job.csv": "job_end_before_start.csv"}, quality=quality), ValidationError)
    assert ("source job: dates_ordered: 1 row(s) found: job.csv:4 case J3 (040490-****): "
            "end date is before start date") in msg


# --- accepted, repaired or quarantined: the run goes on ------------------------------------

# One case row less is a 25 % drop in this tiny municipality's active cases: tests that expect
# the run to go on allow a larger drop, so they test their own outcome, not the volume guard.
TINY = "quality: {volume_drop: 0.5}\n"


def _committed(n):
    run = n.run()
    assert not n.warehouse_unchanged()
    return run


def _input(run, source):
    return next(i for i in json.loads((run.report_dir / "manifest.json").read_text())["inputs"]
                if i["source"] == source)


def test_utf8_with_bom_is_accepted(night):
    run = _committed(night({"job.csv": "job_utf8_bom.csv"}))
    assert run.summary["identify"]["citizens_flagged"] == 2
    assert run.manifest["quality"]["warnings"] == [
        w for w in run.manifest["quality"]["warnings"] if w.startswith("source persons: birth_date")]


def test_cpr_with_leading_zero_lost_is_repaired(night):
    run = _committed(night({"job.csv": "job_cpr_zero_lost.csv"}))
    assert _input(run, "job")["cprs_repaired"] == 1
    assert run.summary["identify"]["citizens_flagged"] == 2


def test_cpr_with_letters_is_rejected_with_reason(night):
    run = _committed(night({"job.csv": "job_cpr_letters.csv"}, quality="quality: {max_reject_share: 0.25, volume_drop: 0.5}\n"))
    rows = [r for r in report_rows(run) if r["source"] == "job"]
    assert rows == [{"kind": "rejected", "source": "job", "file": "job.csv", "line": "4", "field": "cpr",
                     "masked_cpr": "******-****", "case_id": "", "expectation": "types_parse",
                     "reason": "CPR contains characters other than digits, dashes and spaces"}]


def test_cpr_with_letters_over_the_reject_share_stops(night):
    msg = stopped(night({"job.csv": "job_cpr_letters.csv"}), ValidationError)
    assert "source job: types_parse: 1 of 5 rows cannot be parsed (20%, more than the 5% allowed)" in msg


def test_exact_duplicate_counts_once(night):
    run = _committed(night({"job.csv": "job_exact_duplicate.csv"}))
    assert _input(run, "job")["exact_duplicates"] == 1
    assert run.manifest["quality"]["rows_quarantined"] == {}


def test_same_case_id_with_different_content_is_quarantined(night):
    run = _committed(night({"job.csv": "job_case_id_conflict.csv"}, quality=TINY))
    assert run.manifest["quality"]["rows_quarantined"] == {"job": {"case_id_unique": 2}}
    lines = sorted(int(r["line"]) for r in report_rows(run) if r["kind"] == "quarantined")
    assert lines == [2, 7]
    # J1 of 0101800001 is out, so she keeps only SOC: not flagged tonight
    assert run.summary["identify"]["citizens_flagged"] == 1


def test_extra_unknown_columns_are_accepted_with_a_warning(night):
    run = _committed(night({"job.csv": "job_extra_columns.csv"}))
    assert "source job: no_unknown_columns: column(s) not in the mapping: note (accepted, not used)" \
        in run.manifest["quality"]["warnings"]


def test_end_date_before_start_date_is_quarantined(night):
    run = _committed(night({"job.csv": "job_end_before_start.csv"}, quality=TINY))
    [row] = [r for r in report_rows(run) if r["kind"] == "quarantined"]
    assert (row["file"], row["line"], row["field"], row["masked_cpr"], row["case_id"]) == \
        ("job.csv", "4", "end_date", "040490-****", "J3")


def test_start_date_in_2099_is_quarantined(night):
    run = _committed(night({"job.csv": "job_start_2099.csv"}, quality=TINY))
    [row] = [r for r in report_rows(run) if r["kind"] == "quarantined"]
    assert row["expectation"] == "start_not_future"
    assert row["reason"] == "start date is after 2031-11-01 (5 years after the as-of date)"
    assert run.manifest["quality"]["rows_quarantined_total"] == 1


def test_case_for_cpr_not_in_person_extract_is_unmatched(night):
    run = _committed(night({"job.csv": "job_cpr_not_in_persons.csv"}))
    assert run.manifest["quality"]["rows_unmatched"] == {"job": 1}
    assert _input(run, "job")["rows_with_cpr_not_in_register"] == 1
    [row] = [r for r in report_rows(run) if r["kind"] == "unmatched"]
    assert (row["line"], row["masked_cpr"]) == ("7", "070790-****")
    assert (run.report_dir / "quarantine.csv").stat().st_mode & 0o777 == 0o600
