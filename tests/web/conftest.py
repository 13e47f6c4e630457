"""The web tests' committed run, made once per test process (pytest-xdist: once per worker)."""

from __future__ import annotations

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
    """One committed run of the web town (tests/web/town.py) and a users file; read-only for tests."""
    root = tmp_path_factory.mktemp("webtown")
    run = commit_town(root)
    out = root / "reports"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users_file, "_hasher", CHEAP)
        users = write_users(out / "users.yaml")
    return {"root": root, "run": run, "out": out, "warehouse": run.settings.warehouse_path, "users": users,
            "log": out / "access_log.duckdb"}
