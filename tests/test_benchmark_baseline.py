"""The benchmark compares like with like: the pipeline and the pandas baseline flag the same citizens.

A small generated municipality (3,000 synthetic citizens, CSV as the benchmark reads it), the
benchmark's rule set (benchmarks/rules.yaml) and as-of date; the pipeline's flagged citizens per
rule are read from the warehouse it stored (wh.targets), the baseline's come from
benchmarks/pandas_baseline.py, which reads the raw files with pandas and never calls the project.
The sets themselves are compared, rule by rule, not only their sizes. The benchmark
(benchmarks/run.py) checks the same at every size through sha256 digests of the sorted sets.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.sample import generate

pytestmark = pytest.mark.slow   # one generated municipality and one whole run for the module

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
AS_OF = date(2026, 11, 1)


def _module(name: str):  # noqa: ANN202 - a script of benchmarks/, loaded by path
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, set[str]], dict[str, set[str]], Path]:
    """One generated municipality, one pipeline run: (pipeline sets, pandas sets, sources file)."""
    folder = tmp_path_factory.mktemp("bench-municipality")
    generate(folder / "data", citizens=3_000, seed=42, reference_date=AS_OF, fmt="csv")
    sources = folder / "data" / "sources.yaml"
    out = folder / "run"
    run_pipeline(RunSettings(sources=sources, rules=BENCHMARKS / "rules.yaml", as_of=AS_OF, out=out))
    pipeline = _module("worker").flagged_in_warehouse(out / "warehouse.duckdb")
    pandas, _ = _module("pandas_baseline").flagged(sources, AS_OF)
    return pipeline, pandas, sources


def test_pipeline_and_pandas_baseline_flag_the_same_citizens(both) -> None:  # noqa: ANN001
    pipeline, pandas, _ = both
    assert set(pipeline) == {"two_departments", "buf_child_job_parent"} == set(pandas)
    for rule in pandas:
        assert pandas[rule], f"{rule}: the small municipality flags nobody, the comparison would prove nothing"
        missing, extra = pandas[rule] - pipeline[rule], pipeline[rule] - pandas[rule]
        assert not missing and not extra, (f"{rule}: {len(missing)} citizen(s) only the baseline flags, "
                                           f"{len(extra)} only the pipeline flags")


def test_the_digests_the_benchmark_compares_are_of_the_sets(both) -> None:  # noqa: ANN001
    pipeline, pandas, _ = both
    digest = _module("pandas_baseline").digest
    assert {rule: digest(c) for rule, c in pipeline.items()} == {rule: digest(c) for rule, c in pandas.items()}
    one_less = set(sorted(pandas["two_departments"])[1:])
    assert digest(one_less) != digest(pandas["two_departments"])


def test_the_warehouse_reader_sees_only_the_runs_targets(both, tmp_path: Path) -> None:  # noqa: ANN001
    """A warehouse with no committed run has no flagged citizens (not an error the benchmark would miss)."""
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(RuntimeError, match="no committed run"):
        _module("worker").flagged_in_warehouse(path)
