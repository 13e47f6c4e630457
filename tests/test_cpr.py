"""CPR cleaning: the SQL macros, the Python reference and python-stdnum agree."""

from __future__ import annotations

import pytest
from stdnum.dk import cpr as stdnum_cpr

from targetgroup import cpr
from targetgroup.errors import InputError
from targetgroup.warehouse import open_work

CASES = [
    ("010190-1234", "0101901234", None),
    ("0101901234", "0101901234", None),
    ("010190 1234", "0101901234", None),
    (" 01 01 90-12 34 ", "0101901234", None),
    ("101901234", "0101901234", None),            # Excel lost the leading zero
    ("101901234.0", "0101901234", None),          # read as a float
    ("1019012345", "1019012345", None),           # ten digits are used as they are
    ("01019O1234", None, "CPR contains characters other than digits, dashes and spaces"),
    ("010190-12345", None, "CPR has 11 digits, expected 10 (or 9 from Excel)"),
    ("12345678", None, "CPR has 8 digits, expected 10 (or 9 from Excel)"),
    ("", None, "CPR is empty"),
    (None, None, "CPR is empty"),
]


@pytest.fixture(scope="module")
def con():
    connection = open_work()
    yield connection
    connection.close()


@pytest.mark.parametrize(("raw", "expected", "problem"), CASES)
def test_sql_cleaning(con, raw, expected, problem):
    got = con.execute("select tg_cpr(?), tg_cpr_problem(?)", [raw, raw]).fetchone()
    assert got == (expected, problem)


@pytest.mark.parametrize(("raw", "expected", "problem"), CASES)
def test_python_reference_matches_sql(raw, expected, problem):
    assert cpr.clean(raw) == expected


@pytest.mark.parametrize("raw", ["010190-1234", "0101901234", "311299-4321", "290204-5678", "010101-9999"])
def test_sql_agrees_with_stdnum(con, raw):
    """python-stdnum is the reference for ten-digit values (it does not pad nine digits)."""
    assert con.execute("select tg_cpr(?)", [raw]).fetchone()[0] == stdnum_cpr.compact(raw)
    birth = con.execute("select tg_cpr_birth_date(tg_cpr(?))", [raw]).fetchone()[0]
    assert birth == stdnum_cpr.get_birth_date(raw)


def test_mask_hides_the_serial(con):
    assert cpr.mask("0101901234") == "010190-****"
    assert con.execute("select tg_mask('0101901234')").fetchone()[0] == "010190-****"
    assert cpr.mask(None) == "******-****"


def test_typed_cpr_errors_are_masked():
    assert cpr.parse_typed("010190-1234") == "0101901234"
    with pytest.raises(InputError) as info:
        cpr.parse_typed("319990-1234")
    assert "319990-****" in str(info.value) and "1234" not in str(info.value).replace("319990", "")
    with pytest.raises(InputError):
        cpr.parse_typed("abc")
