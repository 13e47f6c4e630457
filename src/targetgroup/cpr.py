"""CPR numbers: cleaning, masking and checking single values typed by a person.

Bulk cleaning happens in SQL (macros `tg_cpr`, `tg_cpr_problem`, `tg_mask` in sql/macros.sql);
this module holds the same rules for one value at a time, used by commands that take a CPR
from the command line (explain, history, suppress) and by tests as a reference.
"""

from __future__ import annotations

import re

from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError as StdnumError

from targetgroup.errors import InputError

_FLOAT = re.compile(r"^(\d+)\.0*$")


def clean(raw: object) -> str | None:
    """Return the 10-digit CPR for `raw`, or None when it cannot be used (see DOMAIN.md)."""
    digits = re.sub(r"[\s\-]", "", "" if raw is None else str(raw))
    if match := _FLOAT.match(digits):
        digits = match.group(1)
    if re.fullmatch(r"\d{10}", digits):
        return digits
    if re.fullmatch(r"\d{9}", digits):
        return "0" + digits
    return None


def mask(cpr: str | None) -> str:
    """'0101901234' -> '010190-****': safe to log, still lets a person find the row."""
    if not cpr or len(cpr) < 6:
        return "******-****"
    return f"{cpr[:6]}-****"


def parse_typed(raw: str) -> str:
    """A CPR a person typed on the command line, cleaned; checked with python-stdnum's format rules.

    Raises InputError (with a masked value) when it is not a CPR number.
    """
    value = clean(raw)
    if value is None:
        raise InputError("not a CPR number (expected DDMMYY-SSSS)", hint="type the 10 digits, e.g. 010190-1234")
    try:
        stdnum_cpr.get_birth_date(value)
    except StdnumError:
        raise InputError(f"{mask(value)} does not start with a valid birth date",
                         hint="check the first six digits (DDMMYY)") from None
    return value
