"""The privacy rules (targetgroup.privacy): the CPR scrubber, the rule for showing a value, and
their SQL twins `tg_scrub`/`tg_shown`, which must give the same answers."""

from __future__ import annotations

import logging

import pytest

from targetgroup import privacy
from targetgroup.warehouse import open_work

# synthetic, visibly fake CPR numbers (serial 9990..9999)
SCRUB_CASES = {
    "0101909999": "010190-****",
    "010190-9998": "010190-****",
    "010190 9997": "010190-****",
    "101909996": "010190-****",                     # Excel lost the leading zero
    "101909996.0": "010190-****.0",
    "status '2412019995' is not declared": "status '241201-****' is not declared",
    "a 0101909999,0202909998;0303909997 b": "a 010190-****,020290-****;030390-**** b",
    "0101909999 0202909998": "010190-**** 020290-****",
    "cpr_0101909999": "cpr_010190-****",
    # not CPR-shaped: left alone
    "20261122T041500-3f9a": "20261122T041500-3f9a",
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": None,
    "12345678": "12345678",
    "123456789012": "123456789012",
    "01-01-1990": "01-01-1990",
    "x0101909999": "x0101909999",
    "20,000 rows": "20,000 rows",
    "": "",
}


@pytest.fixture(scope="module")
def con():
    connection = open_work(threads=1)
    yield connection
    connection.close()


@pytest.mark.parametrize("text", SCRUB_CASES)
def test_scrub_masks_cpr_shaped_text_only(text):
    expected = SCRUB_CASES[text]
    assert privacy.scrub(text) == (text if expected is None else expected)


@pytest.mark.parametrize("text", SCRUB_CASES)
def test_sql_scrub_is_the_same_rule(con, text):
    assert con.execute("select tg_scrub(?)", [text]).fetchone()[0] == privacy.scrub(text)


SHOWN = ["AKT", "Bevilget", "Afsluttet", "9", "PAS-2", "v1.2", "Ærø_kode", "X" * 16, "ab1234"]
NOT_SHOWN = ["0101909999", "010190-9998", "101909996", "01-01-1990", "2026-11-01", "Jens Hansen",
             "X" * 17, "ab12345", "", None, "tab\there", "a;b", "'; drop", "ny\nlinje", "I gang"]


@pytest.mark.parametrize("value", SHOWN + NOT_SHOWN)
def test_shown_allows_short_codes_only(con, value):
    assert privacy.shown(value) == (value in SHOWN)
    assert con.execute("select tg_shown(?)", [value]).fetchone()[0] == privacy.shown(value)


def test_describe_quotes_only_what_may_be_shown(con):
    assert privacy.describe("AKT") == "'AKT'"
    assert privacy.describe("0101909999") == privacy.NOT_SHOWN
    assert con.execute("select tg_describe('0101909999')").fetchone()[0] == privacy.NOT_SHOWN
    assert privacy.describe_names(["cpr", "0101909999", "01-01-1990"]) == \
        "cpr, and 2 name(s) not shown (they look like data, not column names)"


def test_scrub_data_walks_keys_and_values():
    data = {"reasons": {"status '0101909999'": 1}, "list": ["101909996", 7], "n": 3}
    assert privacy.scrub_data(data) == {"reasons": {"status '010190-****'": 1}, "list": ["010190-****", 7], "n": 3}


def test_log_scrubber_masks_messages_arguments_and_tracebacks(caplog):
    privacy.install_log_scrubber()
    privacy.install_log_scrubber()   # twice is once
    log = logging.getLogger("targetgroup.test")
    with caplog.at_level(logging.INFO):
        log.info("row %s", "0101909999")
        try:
            raise ValueError("could not convert '010190-9998'")
        except ValueError:
            log.exception("failed")
    assert "0101909999" not in caplog.text and "010190-9998" not in caplog.text
    assert "010190-****" in caplog.text and "could not convert" in caplog.text


def test_scrubbed_stream_masks_what_is_written(capsys):
    import sys
    stream = privacy.ScrubbedStream(lambda: sys.stderr)
    stream.write("Error: 0101909999\n")
    assert capsys.readouterr().err == "Error: 010190-****\n"


def test_current_umask_reads_without_changing():
    import os
    old = os.umask(0o027)
    try:
        assert privacy.current_umask() == 0o027
        privacy.private_umask()
        assert privacy.current_umask() == 0o077
    finally:
        os.umask(old)
