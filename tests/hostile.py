"""The hostile corpus: values an attacker can put in an extract header, a cell or a configuration
file, each trying to make DuckDB run a `copy ... to CANARY` of its own (issue 11, section 1).

`corpus(canary)` fills in the canary path. Values in REFUSED are refused as codes, names and
column headers (control characters, text-direction marks, over-long); the others are printable
and must be accepted as plain text that never executes.
"""

from __future__ import annotations

from pathlib import Path

REFUSED = frozenset({"newline", "nul", "tab", "rtl", "long"})


def corpus(canary: Path) -> dict[str, str]:
    """Name -> hostile value, each aiming at the file `canary`."""
    c = str(canary)
    return {
        # ends the mojibake check's concat_ws(...) (extract.py, latin-1/cp1252 CSV) and copies
        "dquote": (f"x\"), '') is null; copy (select 42 as a) to '{c}'; "
                   f"select min(1) from raw_buf where regexp_matches(concat_ws('|', \"x"),
        # ends the Parquet cast list's cast("...") and comments out the rest of the line
        "dquote_cast": f"a\" as varchar) as a from (select 1 as a); copy (select 42) to '{c}'; --",
        "quote": f"x'); copy (select 42) to '{c}'; --",
        "semicolon": f"a; copy (select 42) to '{c}'; select 1",
        "line_comment": f"a -- '); copy (select 42) to '{c}'; --",
        "block_comment": f"a /* */ '); copy (select 42) to '{c}'; /*",
        "backslash": f"a\\'); copy (select 42) to '{c}'; --",
        "dollar": f"$$); copy (select 42) to $${c}$$; select ($$",
        # Great Expectations fills {batch} into the gate's SQL with str.format
        "braces": f"{{batch}} {{0}} }}{{'); copy (select 42) to '{c}'; --",
        # through case_type.sql's comment line and the old statement splitter (rules)
        "newline": f"x\nselect null, [], [], [], null);\ncopy (select 42) to $${c}$$;\n--",
        "nul": f"a\x00'); copy (select 42) to '{c}'; --",
        "tab": f"a\t'); copy (select 42) to '{c}'; --",
        "rtl": f"\u202ex'); copy (select 42) to '{c}'; --",
        "long": "x" * 5000,
    }


NAMES = list(corpus(Path("c")))
PRINTABLE = [n for n in NAMES if n not in REFUSED]
