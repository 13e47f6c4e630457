"""The run manifest: `manifest.json` in every run folder, what operations read about a run.

    write(run, status, final, error)   -> the manifest's path (in run.report_dir)

Counts, paths, file hashes and timings only: never a CPR number. Paths name the folder the run
ends in (`final`), not the staging folder the manifest is written in (targetgroup.runfolder).
"""

from __future__ import annotations

import platform
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from targetgroup import privacy
from targetgroup.deliver.files import make_private_dir, write_json
from targetgroup.errors import TargetGroupError
from targetgroup.runfolder import moved

if TYPE_CHECKING:
    from targetgroup.pipeline import Run
    from targetgroup.stage import StageResult

PACKAGES = ("targetgroup", "duckdb", "pandas", "pyarrow", "prefect", "great-expectations", "python-stdnum")


def write(run: Run, status: str, final: Path, error: TargetGroupError | None = None) -> Path:
    """Write `manifest.json` for `run` ended with `status` into run.report_dir; returns its path.

    Also points `run.manifest["quality"]["data_docs"]` at `final` (where the folder ends)."""
    make_private_dir(run.report_dir)
    staged: StageResult | None = run.summary.get("stage")
    inputs = []
    for f in run.summary.get("files", []):
        entry = {"source": f.source, "path": f.path, "sha256": f.sha256, "bytes": f.bytes, "rows_read": f.rows}
        if f.resolved:
            entry["resolved_path"] = f.resolved   # the extract is a symbolic link to this file
        if f.database:   # a database source: where it is and which query ran (no user, no password)
            entry = {"source": f.source, **f.database, "rows_read": f.rows}
        if staged:
            entry.update(
                rows_rejected=staged.rows_rejected.get(f.source, 0),
                reject_reasons=staged.reject_reasons.get(f.source, {}),
                exact_duplicates=staged.duplicates.get(f.source, 0),
                cprs_repaired=staged.cprs_repaired.get(f.source, 0),
                rows_with_cpr_not_in_register=staged.unmatched_rows.get(f.source, 0),
            )
        inputs.append(entry)
    manifest = {
        "run_id": run.run_id,
        "status": status,
        "as_of": run.settings.as_of.isoformat(),
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "sources_file": str(run.settings.sources),
        "warehouse": str(run.settings.warehouse_path),
        "folder": str(final),
        "stored_in_warehouse": status == "committed",
        "inputs": inputs,
        "counts": {
            "persons": staged.persons if staged else None,
            "cases": staged.cases if staged else None,
            **run.summary.get("identify", {}),
            "flags": run.summary.get("flags", {}),
            "flags_per_department": run.summary.get("flags_per_department", {}),
            "flag_changes_per_department": run.summary.get("flag_changes_per_department", {}),
            "list_rows_per_department": run.manifest.get("list_rows_per_department", {}),
        },
        # the manifest may be written twice (before the commit, then finally): read, never pop
        **{k: v for k, v in run.manifest.items() if k != "list_rows_per_department"},
        "outputs": [p.name for p in run.outputs],
        "duration_seconds": run.timings,
        "versions": {"python": platform.python_version(), **_versions()},
    }
    if error is not None:
        manifest["error"] = str(error)
    quality = run.manifest.get("quality")
    if isinstance(quality, dict) and quality.get("data_docs"):
        quality["data_docs"] = manifest["quality"]["data_docs"] = moved(quality["data_docs"], run.report_dir, final)
    # every string scrubbed (the manifest carries reasons and messages): defence in depth
    return write_json(run.report_dir / "manifest.json", privacy.scrub_data(manifest))


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
