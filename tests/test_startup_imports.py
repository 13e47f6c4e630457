"""What a `targetgroup` process imports before it works (issue 17: the 200,000-citizen start-up).

The command line's module tree (every command registers itself on import) and the pipeline must
not import pandas, Great Expectations or Prefect: a run imports pandas and Great Expectations in
a background thread while DuckDB reads (validate.gate.preload), and Prefect never. Checked in a
fresh interpreter, since this test process has imported all of them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "great_expectations", "prefect", "sqlalchemy", "xlsxwriter")


def _imported_after(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_cli_and_the_pipeline_import_no_heavy_library() -> None:
    assert _imported_after("import targetgroup.cli, targetgroup.pipeline") == []

