"""Run the generated suites with Great Expectations (imported here only: it takes 3-4 s).

An ephemeral GX context holds the suites and validation results in memory (a file context
rewrote its YAML configuration once per asset and batch definition: 1.6 s of a 200,000-citizen
run); its one Data Docs site is written under the run's report folder, and the validation
results are saved beside it as `validation_results.json`. Nothing goes to a shared temporary
folder. Results are requested in
SUMMARY format, and row-level queries select only file, line, case id and the masked CPR, so no
CPR reaches the JSON or the HTML GX writes (tests/validate/test_no_cpr_in_reports.py checks).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import gc
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from targetgroup.deliver.files import make_private_dir, write_text
from targetgroup.validate.gx_duckdb import gx_connection_string
from targetgroup.validate.suites import Check, Suite

INDEX_SELECT = "file, line, tg_scrub(case_id) as case_id, tg_mask(cpr) as masked_cpr"   # never a CPR


@dataclass(frozen=True)
class Outcome:
    """The result of one check: passed or not, and what GX observed (counts, never CPRs)."""

    check: Check
    success: bool
    observed: object
    problem: str | None = None   # set when GX could not evaluate the expectation


_PRELOAD: list[threading.Thread] = []


def preload() -> None:
    """Start importing pandas (the outputs' writers need it) and Great Expectations in a background
    thread (once per process): `import targetgroup.pipeline` imports neither."""
    if not _PRELOAD and "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _PRELOAD.append(threading.Thread(target=_import_all, args=(("pandas", "great_expectations"),),
                                         name="gx-import", daemon=True))
        _PRELOAD[0].start()


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def unexpected_rows_query(check: Check) -> str:
    """The GX query for a row-level check: the failing rows' keys, never the CPR itself."""
    predicate = check.predicate.replace("{", "{{").replace("}", "}}")
    return f"select {INDEX_SELECT} from {{batch}} where parsed and ({predicate})"


def _expectation(gx, check: Check):  # noqa: ANN001 - the lazily imported module
    kwargs = dict(check.gx_kwargs)
    if check.row_level:
        kwargs["unexpected_rows_query"] = unexpected_rows_query(check)
    cls = getattr(gx.expectations, check.gx_type)
    return cls(**kwargs, severity="critical" if check.severity == "error" else "warning",
               description=f"{check.expectation}: {check.description}",
               meta={"targetgroup_check": check.expectation, "extract": check.extract})


def run_suites(con: duckdb.DuckDBPyConnection, suites: list[Suite], folder: Path) -> tuple[list[Outcome], Path]:
    """Validate every suite against the run's database; returns outcomes and the Data Docs index."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for thread in _PRELOAD:
        thread.join()
    import great_expectations as gx  # noqa: PLC0415 - slow import, only when the gate runs

    make_private_dir(folder)
    site = folder / "gx" / "uncommitted" / "data_docs" / "local_site"
    by_id = {(s.name, c.expectation): c for s in suites for c in s.checks}
    # GX writes its pages under the process umask (077 from the start: targetgroup.privacy)
    with gx_connection_string(con) as url:
        context = gx.get_context(project_config=_context_config(site), mode="ephemeral")
        datasource = context.data_sources.add_sql("run", connection_string=url)
        definitions = []
        for suite in suites:
            asset = datasource.add_table_asset(suite.name, table_name=suite.table)
            batch = asset.add_batch_definition_whole_table("whole_table")
            gx_suite = context.suites.add(gx.ExpectationSuite(suite.name))
            for check in suite.checks:
                gx_suite.add_expectation(_expectation(gx, check))
            definitions.append(context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="quality_gate", validation_definitions=definitions,
            actions=[],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5}))
        result = checkpoint.run()
        # One site build for all suites: UpdateDataDocsAction rebuilds the whole site once per
        # suite, recompiling every template (13 s for 9 suites here).
        context.build_data_docs()
        write_text(folder / "validation_results.json", json.dumps(result.describe_dict(), indent=1, default=str))
        outcomes = []
        for run_result in result.run_results.values():
            suite_name = run_result.suite_name
            for r in run_result.results:
                check = by_id[(suite_name, r.expectation_config.meta["targetgroup_check"])]
                info = r.exception_info or {}
                raised = info.get("raised_exception") if "raised_exception" in info else any(
                    v.get("raised_exception") for v in info.values() if isinstance(v, dict))
                problem = "Great Expectations could not evaluate it" if raised else None
                outcomes.append(Outcome(check, bool(r.success), _observed(r.result), problem))
        # GX keeps its SQLAlchemy engine (and through it DuckDB cursors) alive in caches; let go of
        # them now, so they neither outlive the run's connection nor show up as leaks at exit.
        engine = datasource.get_execution_engine()
        engine.close()
        engine.engine.dispose()
        del context, datasource, definitions, checkpoint, result, engine
        gc.collect()
    return outcomes, site / "index.html"


def _context_config(site: Path):  # noqa: ANN202 - GX's config class, imported lazily
    """In-memory stores and one Data Docs site in `site` (GX's temporary default site is not made)."""
    from great_expectations.data_context.types.base import (  # noqa: PLC0415
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={"local_site": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            # GX wants an absolute path here (a relative --out such as the default 'reports' failed)
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # validation results only: the suites' own pages repeat what every result page shows
            "site_section_builders": {"expectations": "0", "profiling": "0"}}},
        progress_bars=ProgressBarsConfig(globally=False))


def _observed(result: dict) -> object:
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        return {"unexpected": result["unexpected_count"], "values": result.get("partial_unexpected_list", [])}
    return None
