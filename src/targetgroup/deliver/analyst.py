"""Analyst outputs: Parquet with keyed pseudonyms instead of CPR, and SQL views in the warehouse.

The pseudonym is HMAC-SHA256(key, value) as 64 hex characters, computed in DuckDB (the HMAC is
built from DuckDB's sha256 with the key's inner and outer pads, so no Python loop touches a
CPR). The same key gives the same pseudonym in every run, so analysts can follow a person over
time without seeing who it is; without the key the pseudonyms cannot be reversed by guessing.

The key comes from (first found):
    TARGETGROUP_PSEUDONYM_KEY        the secret itself (>= 32 characters)
    TARGETGROUP_PSEUDONYM_KEY_FILE   a file holding it, outside any git repository, mode 600
If neither is set, NO analyst output is written: the run continues and says so in the CLI and
the manifest. (We do not generate a key: a key that silently differs between machines or
users would break every link over time. Create one once, see docs/analysts.md.)

    pseudonym_key(environ)                  -> bytes | None   (ConfigError when set but unusable)
    install_pseudonym(con, key)              -> SQL macro tg_pseudonym(varchar) in `con`
    write_parquet(con, out_dir, counts)      -> [targets.parquet, flags.parquet, counts.parquet]
    store_pseudonyms(con)                    -> commit step: table wh.pseudonyms for the views
    create_views(warehouse)                  -> views v_runs, v_target_group_size, v_targets, v_flags_history
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from targetgroup.deliver.files import create_private, make_private_dir
from targetgroup.errors import ConfigError
from targetgroup.warehouse import ALIAS, run_sql, sql_literal

ENV_KEY = "TARGETGROUP_PSEUDONYM_KEY"
ENV_KEY_FILE = "TARGETGROUP_PSEUDONYM_KEY_FILE"
MIN_KEY_LENGTH = 32
BLOCK = 64  # SHA-256 block size in bytes
NO_KEY_WARNING = (f"analyst outputs not written: no pseudonym key (set {ENV_KEY_FILE} to a key file "
                  f"outside the repository, or {ENV_KEY}; see docs/analysts.md)")


def pseudonym_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The pseudonym key from the environment, None if not configured; ConfigError if unusable."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY):
        key = env[ENV_KEY].strip().encode()
        source: str | Path = ENV_KEY
    elif env.get(ENV_KEY_FILE):
        path = Path(env[ENV_KEY_FILE]).expanduser()
        _check_key_file(path)
        key = path.read_bytes().strip()
        source = path
    else:
        return None
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"the pseudonym key is too short ({len(key)} characters, at least {MIN_KEY_LENGTH})",
                          file=source if isinstance(source, Path) else None,
                          hint="make one with: python -c \"import secrets; print(secrets.token_hex(32))\"")
    return key


def _check_key_file(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(f"{ENV_KEY_FILE} names a file that does not exist", file=path,
                          hint="create the key file (docs/analysts.md) or unset the variable")
    resolved = path.resolve()
    for folder in resolved.parents:
        if (folder / ".git").exists():
            raise ConfigError("the pseudonym key file is inside a git repository", file=path,
                              hint=f"move it outside the repository, e.g. to ~/.config/targetgroup/pseudonym.key")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError("the pseudonym key file can be read by others", file=path,
                          hint=f"chmod 600 {path}")


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def install_pseudonym(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define the temp macro tg_pseudonym(value) = hex HMAC-SHA256(key, utf-8 value) in `con`."""
    inner, outer = _pads(key)
    con.execute(f"""create or replace temp macro tg_pseudonym(v) as
        case when v is null then null
             else sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(v::varchar)))) end""")


TARGETS_SQL = """
select ?::varchar as run_id, ?::date as as_of, t.rule_id, t.subject_type,
    tg_pseudonym(t.cpr) as person_pseudonym, tg_pseudonym(t.family_id) as family_pseudonym,
    r.age, t.departments, len(t.case_keys) as cases, t.reason_codes
from targets as t left join residents as r using (cpr)
order by rule_id, person_pseudonym
"""

FLAGS_SQL = """
select ?::varchar as run_id, ?::date as as_of, f.rule_id, tg_pseudonym(f.flag_id) as flag_pseudonym,
    tg_pseudonym(f.cpr) as person_pseudonym, tg_pseudonym(f.family_id) as family_pseudonym,
    f.change, f.flag_valid_from, f.end_reason, f.departments,
    tg_scrub(c.team) as coordinator_team, c.coordinator_department, c.duration_days
from flag_status as f left join courses as c using (flag_id)
order by rule_id, flag_pseudonym, person_pseudonym
"""


def write_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path, run_id: str, as_of, counts: pd.DataFrame) -> list[Path]:
    """Write targets, flags and counts as Parquet (mode 600) into `out_dir`; needs tg_pseudonym."""
    make_private_dir(out_dir)
    written = []
    con.register("_counts_frame", counts)
    jobs = [("targets.parquet", TARGETS_SQL, [run_id, as_of]), ("flags.parquet", FLAGS_SQL, [run_id, as_of]),
            ("counts.parquet", "select ?::varchar as run_id, ?::date as as_of, * from _counts_frame", [run_id, as_of])]
    try:
        for name, sql, params in jobs:
            path = create_private(out_dir / name)   # DuckDB's COPY truncates it: mode 600 stays
            con.execute(f"copy ({sql}) to {sql_literal(path)} (format parquet, use_tmp_file false)", params)
            written.append(path)
    finally:
        con.unregister("_counts_frame")
    return written


def store_pseudonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: (re)build wh.pseudonyms for every CPR, family id and flag id in the warehouse."""
    sources = [f"select cpr as value from {ALIAS}.targets", f"select family_id from {ALIAS}.targets"]
    flags = con.execute(f"select count(*) from duckdb_tables() where database_name = '{ALIAS}' "
                        "and table_name = 'flags'").fetchone()[0]
    if flags:
        sources += [f"select flag_id from {ALIAS}.flags", f"select subject_id from {ALIAS}.flags",
                    f"select family_id from {ALIAS}.flags", f"select unnest(members) from {ALIAS}.flags"]
    con.execute(f"""create or replace table {ALIAS}.pseudonyms as
                    select value, tg_pseudonym(value) as pseudonym
                    from ({' union '.join(sources)}) as s(value)
                    where value is not null""")


def create_views(warehouse: Path) -> list[str]:
    """Create the analyst views in the warehouse file (on its own connection); returns their names."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create table if not exists pseudonyms (value varchar, pseudonym varchar)")
        run_sql(con, "analyst_views.sql")
        names = ["v_runs", "v_target_group_size", "v_targets"]
        if con.execute("select count(*) from duckdb_tables() where table_name = 'flags'").fetchone()[0]:
            run_sql(con, "analyst_flag_views.sql")
            names.append("v_flags_history")
        return names
    finally:
        con.close()



