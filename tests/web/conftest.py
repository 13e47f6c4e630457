"""The web tests' committed run, made once per test session and shared by pytest-xdist's workers."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from targetgroup.web import users as users_file
from tests.web.town import commit_town, write_users

# the users file of the tests is written with cheap argon2id parameters: every log-in verifies
# against its hash's own parameters, and the suite logs in some fifty times (production uses
# argon2-cffi's defaults, see targetgroup.web.users)
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def town(tmp_path_factory):
    """One committed run of the web town (tests/web/town.py) and a users file, read-only for the
    tests; the first worker makes it, the others wait for it. Each worker writes its own access log."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "webtown"
    with (shared / "webtown.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = root / "made.json"
        if not made.exists():
            run = commit_town(root)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(users_file, "_hasher", CHEAP)
                write_users(root / "reports" / "users.yaml")
            made.write_text(json.dumps({"report_dir": str(run.report_dir),
                                        "warehouse": str(run.settings.warehouse_path)}))
        found = json.loads(made.read_text())
    out = root / "reports"
    return {"root": root, "out": out, "report_dir": Path(found["report_dir"]), "warehouse": Path(found["warehouse"]),
            "users": out / "users.yaml", "log": tmp_path_factory.mktemp("accesslog") / "access_log.duckdb"}
