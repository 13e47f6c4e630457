"""Extract: read each configured file into a raw DuckDB table, its cells as text (dates stay dates).

One table per extract, `raw_<name>`: one row per data row of the file(s), with the file's own
column names plus `_file` (file name) and `_line` (line in the file; the header is line 1; for
Parquet the row number). Nothing is renamed or cast here; that is staging's job. Cells are text,
except date and timestamp columns of Parquet and Excel files, which stay dates: a source's
`date_format` reads text cells only.

A file that cannot be read whole (wrong encoding, a line with too few or too many fields, an
unterminated quote, a missing mapped column) raises `InputError` naming the file and line;
nothing is skipped silently. DuckDB's own messages are not passed on because they quote the
offending line, and with it a CPR number; column names are shown only where `privacy.shown`
allows (a file without a header line has data in its first line).

Column names come from the file and reach SQL only through `sql_identifier`. A header name
that holds a control character (newline, tab, NUL), a text-direction mark, or more than
`limits.MAX_NAME` characters stops the run with an `InputError` naming the file, line 1 and
the column's position (not its text); any other unknown column is read and left unused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from targetgroup import privacy
from targetgroup.config import Extract, SourcesConfig
from targetgroup.errors import InputError
from targetgroup.limits import MAX_NAME, name_problem
from targetgroup.warehouse import sql_identifier, sql_literal

log = logging.getLogger("targetgroup")

_CSV_PROBLEMS = {
    "MISSING COLUMNS": "the line has fewer fields than the header (a file cut off, or a wrong delimiter?)",
    "TOO MANY COLUMNS": "the line has more fields than the header (an unquoted delimiter in a value?)",
    "UNQUOTED VALUE": "a quoted value is not closed (a file cut off in the middle of a line?)",
    "INVALID ENCODING": "bytes that are not valid in the configured encoding",
    "LINE SIZE OVER MAXIMUM": "the line is longer than any real case row",
    "INVALID STATE": "the line cannot be parsed as CSV",
    "CAST": "a value cannot be read",
}


@dataclass(frozen=True)
class FileRead:
    """What was read from one input file (or database query, `database` set): for the manifest."""

    source: str
    path: str
    sha256: str
    bytes: int
    rows: int
    database: dict | None = None   # host, port, database, query_sha256 (targetgroup.extract_postgres)
    resolved: str | None = None   # the file a symbolic link points to (the path given is the link)


@dataclass
class ExtractResult:
    """Files read per extract; `tables` maps extract name -> raw table name."""

    files: list[FileRead] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)

    def rows(self, source: str) -> int:
        """Rows read for one extract, over all its files."""
        return sum(f.rows for f in self.files if f.source == source)


def read_all(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> ExtractResult:
    """Read the person extract and every case source into `raw_<name>` tables."""
    result = ExtractResult()
    for extract in [config.persons, *config.sources]:
        table = f"raw_{extract.name}"
        if extract.format == "postgresql":
            from targetgroup import extract_postgres  # noqa: PLC0415 - loads the database driver

            result.files.append(extract_postgres.read_source(con, extract, config.base, table))
            result.tables[extract.name] = table
            continue
        files = extract.files(config.base)
        if not files:
            raise InputError(f"no file matches '{extract.path}'", source=extract.name,
                             file=config.base / extract.path,
                             hint="the extract did not arrive; check the delivery folder")
        read_extract(con, extract, files, table)
        result.tables[extract.name] = table
        counts = dict(con.execute(f"select _file, count(*) from {table} group by _file").fetchall())
        for path in files:
            resolved = str(path.resolve()) if path.is_symlink() else None
            if resolved:
                log.info("source %s: %s is a symbolic link to %s", extract.name, path, resolved)
            result.files.append(FileRead(extract.name, str(path), _sha256(path), path.stat().st_size,
                                         counts.get(path.name, 0), resolved=resolved))
    return result


def read_extract(con: duckdb.DuckDBPyConnection, extract: Extract, files: list[Path], table: str) -> None:
    """Create `table` (replacing it) with every row of `files`, as text, plus _file and _line.

    A single CSV file becomes a view that adds _file and _line to the table DuckDB read (no copy
    of the text: at 6 M persons the copy cost 2.6 s and 1 GB); several files are combined into
    one table.
    """
    drop_raw(con, table)
    parts = [table] if len(files) == 1 else [f"{table}__part{i}" for i in range(len(files))]
    for path, target in zip(files, parts):
        if extract.format == "csv":
            _read_csv(con, extract, path, target)
        elif extract.format == "xlsx":
            _read_xlsx(con, extract, path, target)
        else:
            _read_parquet(con, extract, path, target)
    if len(parts) > 1:
        con.execute(f"create table {table} as "
                    + " union all by name ".join(f"select * from {part}" for part in parts))
        for part in parts:
            drop_raw(con, part)
    _check_mapped_columns(con, extract, files, table)


def drop_raw(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a raw extract, whether it is a table or a view over the table DuckDB read."""
    kinds = con.execute("""select 'view' from duckdb_views() where view_name = $name and not internal
                           union all select 'table' from duckdb_tables() where table_name = $name""",
                        {"name": table}).fetchall()
    for (kind,) in kinds:
        con.execute(f"drop {kind} if exists {table}")
    con.execute(f"drop table if exists {table}__read")


def keep_shape_only(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Free a staged raw extract's text, keeping its columns and row count for the quality gate.

    The gate's table-level suite (columns present, no unknown columns, row count) reads
    `raw_<name>` after staging; it becomes a view with the same column names and types and the
    same number of rows, all empty, so the memory the text held (1 GB for 6 M persons) is free
    before the cases are staged.
    """
    columns = con.execute(f"describe {table}").fetchall()
    rows, = con.execute(f"select count(*) from {table}").fetchone()
    drop_raw(con, table)
    select = ", ".join(f"null::{kind} as {sql_identifier(name)}" for name, kind, *_ in columns)
    con.execute(f"create view {table} as select {select} from range({int(rows)})")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _header(path: Path, extract: Extract) -> list[str]:
    """The header row, decoded with the configured encoding (a UTF-8 BOM is dropped)."""
    encoding = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "cp1252": "cp1252"}[extract.encoding]
    with path.open("rb") as fh:
        first = fh.readline(1 << 16)
    if not first.strip():
        raise InputError("the file is empty (no header line)", file=path, line=1, source=extract.name,
                         hint="the extract did not arrive whole; ask for a new delivery")
    if first.startswith(codecs.BOM_UTF8) and extract.encoding != "utf-8":
        raise InputError("the file starts with a UTF-8 byte-order mark: it was saved as UTF-8",
                         file=path, line=1, source=extract.name,
                         hint="set encoding: utf-8 for this source in the sources file")
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError:
        hint = "set encoding: latin-1 for this source in the sources file" if extract.encoding == "utf-8" \
            else "check the encoding configured for this source"
        raise InputError(f"the header is not valid {extract.encoding}", file=path, line=1,
                         source=extract.name, hint=hint) from None
    if extract.encoding != "utf-8" and _MOJIBAKE.search(text):
        raise InputError(_MOJIBAKE_PROBLEM, file=path, line=1, source=extract.name, hint=_MOJIBAKE_HINT)
    row = next(csv.reader(io.StringIO(text), delimiter=extract.delimiter, quotechar='"'))
    if text.rstrip("\r\n").count('"') % 2:
        # a quoted name runs on past the end of the line: a newline inside a column name
        raise InputError(f"column {len(row)} of the header is not closed on its line (a newline in a column name?)",
                         file=path, line=1, source=extract.name, hint="column names must be on the header line")
    names = [name.strip() for name in row]
    check_header(names, path, extract.name)
    return names


def check_header(names: list[str], path: Path, source: str) -> None:
    """Refuse column names no case system writes: control characters, direction marks, huge names."""
    for position, name in enumerate(names, start=1):
        problem = name_problem(name, MAX_NAME) if name else None
        if problem:
            raise InputError(f"the name of column {position} of the header {problem}", file=path, line=1,
                             source=source, hint="a column name is printable text of at most "
                                                 f"{MAX_NAME} characters; ask the system's supplier for a clean extract")


# UTF-8 bytes of æøåÆØÅé... read as latin-1 give 'Ã' or 'Â' followed by a character in
# U+0080..U+00BF ('Ã¸' for 'ø'); no Danish text has that pair, so it means a wrong encoding.
_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]")
_MOJIBAKE_SQL = r"[\x{c2}\x{c3}][\x{80}-\x{bf}]"
_MOJIBAKE_PROBLEM = "the text looks like UTF-8 read as latin-1 (e.g. 'Ã¸' where 'ø' was meant)"
_MOJIBAKE_HINT = "the file was saved as UTF-8: set encoding: utf-8 for this source in the sources file"


def _check_mojibake(con: duckdb.DuckDBPyConnection, extract: Extract, path: Path, table: str, names: list[str]) -> None:
    """Refuse a latin-1/cp1252 file whose text is really UTF-8 (it would store 'SÃ¸ren')."""
    if extract.encoding == "utf-8" or not names:
        return
    text = "concat_ws('|', " + ", ".join(sql_identifier(n) for n in names) + ")"
    hit = con.execute(f"select min(_line) from {table} where regexp_matches({text}, ?)", [_MOJIBAKE_SQL]).fetchone()[0]
    if hit is not None:
        raise InputError(_MOJIBAKE_PROBLEM, file=path, line=int(hit), source=extract.name, hint=_MOJIBAKE_HINT)


def _read_csv(con: duckdb.DuckDBPyConnection, extract: Extract, path: Path, table: str) -> None:
    names = _header(path, extract)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"the header repeats column(s) {privacy.describe_names(dupes)}", file=path, line=1,
                         source=extract.name, hint=_no_header_hint(names) or "each column name must be unique")
    _check_names(extract, path, set(names))   # before DuckDB reads: a headerless file's line 1 is data
    # an empty name (a trailing delimiter) gets DuckDB's own name for it; it is never mapped
    names = [name or f"column{position}" for position, name in enumerate(names)]
    read_path, tmp = path, None
    if extract.encoding == "cp1252":
        # DuckDB 2.0 cannot read cp1252 (only utf-8 and latin-1 are built in): transcode to a private temp file first.
        tmp = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
        with path.open("r", encoding="cp1252", newline="") as src, open(tmp.name, "w", encoding="utf-8",
                                                                          newline="") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        read_path = Path(tmp.name)
    encoding = "utf-8" if extract.encoding in ("utf-8", "cp1252") else "latin-1"
    columns = {name: "VARCHAR" for name in names}
    rejects = f"rej_{table}"
    try:
        try:
            bad = _scan(con, read_path, path, extract, columns, encoding, table, rejects, strict=True)
        except duckdb.Error as exc:
            switch = None if "unicode" in str(exc).lower() else _line_ending_switch(read_path)
            if switch is None:
                raise
            # Windows (CRLF) and Unix (LF) line endings mixed in one file (two exports appended):
            # DuckDB's strict CSV parser stops; the relaxed one reads each line with its own ending.
            log.info("%s: line endings change at line %d (CRLF and LF mixed); read line by line",
                     path.name, switch)
            try:
                bad = _scan(con, read_path, path, extract, columns, encoding, table, rejects, strict=False)
            except duckdb.Error:
                raise InputError("the file mixes Windows (CRLF) and Unix (LF) line endings and cannot be read "
                                 "as CSV", file=path, line=switch, source=extract.name,
                                 hint="save the file again with one kind of line ending, or re-deliver it") from None
    except duckdb.Error as exc:
        # DuckDB's text quotes the line (and so a CPR): keep only its first sentence's kind.
        kind = "INVALID ENCODING" if "unicode" in str(exc).lower() else "INVALID STATE"
        raise InputError(_CSV_PROBLEMS[kind], file=path, source=extract.name,
                         hint=_encoding_hint(extract)) from None
    finally:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
    if bad is not None:
        line, column, kind, total = bad
        problem = _CSV_PROBLEMS.get(kind, "the line cannot be parsed")
        if column and kind not in ("MISSING COLUMNS", "TOO MANY COLUMNS") and privacy.shown(column):
            problem += f" (column '{column}')"
        more = f"; {total - 1} more problem(s) after it" if total > 1 else ""
        hint = _encoding_hint(extract) if kind == "INVALID ENCODING" else \
            "fix or re-deliver the file; no row of it was stored"
        raise InputError(problem + more, file=path, line=int(line), source=extract.name, hint=hint)
    con.execute(f"drop table if exists {rejects}")
    _check_mojibake(con, extract, path, table, names)


def _scan(con: duckdb.DuckDBPyConnection, read_path: Path, path: Path, extract: Extract, columns: dict[str, str],
          encoding: str, table: str, rejects: str, *, strict: bool) -> tuple | None:
    """Read the CSV file into `table` (a view adding _file and _line); the first rejected line, if any."""
    con.execute(f"drop table if exists {rejects}")
    con.execute(
        f"""create or replace table {table}__read as
            select *
            from read_csv(?, delim = ?, quote = '"', escape = '"', header = true,
                          auto_detect = false, columns = ?, encoding = ?, strict_mode = ?,
                          store_rejects = true, rejects_table = {sql_literal(rejects)},
                          rejects_scan = {sql_literal(rejects + "_scan")})""",
        [str(read_path), extract.delimiter, columns, encoding, strict],
    )
    # Insertion order is the file's order, so rowid + 2 is the line (header = line 1).
    con.execute(f"""create or replace view {table} as
                    select *, {sql_literal(path.name)} as _file, (rowid + 2)::bigint as _line
                    from {table}__read""")
    return con.execute(
        f"select line, column_name, error_type::varchar, count(*) over () from {rejects} "
        "order by line limit 1"
    ).fetchone()


def _line_ending_switch(path: Path) -> int | None:
    """The first line whose ending (CRLF or LF) differs from the first line's, or None.

    Only read after DuckDB failed to parse the file, so a good file is never read twice."""
    first: bool | None = None
    line, previous = 1, b""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            end = chunk.find(b"\n")
            while end >= 0:
                crlf = (chunk[end - 1:end] if end else previous) == b"\r"
                if first is None:
                    first = crlf
                elif crlf != first:
                    return line
                line, end = line + 1, chunk.find(b"\n", end + 1)
            previous = chunk[-1:]
    return None


def _encoding_hint(extract: Extract) -> str:
    other = "latin-1" if extract.encoding == "utf-8" else "utf-8"
    return f"the file is configured as {extract.encoding}; if it was saved as {other}, set encoding: {other}"


def _read_xlsx(con: duckdb.DuckDBPyConnection, extract: Extract, path: Path, table: str) -> None:
    import pandas as pd  # noqa: PLC0415 - pandas is only needed for Excel input

    try:
        frame = pd.read_excel(path, sheet_name=extract.sheet, engine="calamine")
    except ValueError as exc:
        if "sheet" in str(exc).lower() or "worksheet" in str(exc).lower():
            raise InputError(f"the workbook has no sheet '{extract.sheet}'", file=path, source=extract.name,
                             hint="set sheet: to the name of the sheet that holds the cases") from None
        raise InputError("the workbook cannot be read", file=path, source=extract.name) from None
    except Exception:  # calamine raises its own types for a broken or non-xlsx file
        raise InputError("the file is not a readable .xlsx workbook", file=path, source=extract.name,
                         hint="check that the extract was saved as Excel (.xlsx)") from None
    check_header([str(name).strip() for name in frame.columns], path, extract.name)
    frame = _xlsx_as_text(frame, extract.date_format)
    frame["_file"] = path.name
    frame["_line"] = range(2, len(frame) + 2)
    con.register("_xlsx_frame", frame)
    try:
        con.execute(f"create or replace table {table} as select * from _xlsx_frame")
    finally:
        con.unregister("_xlsx_frame")


def _xlsx_as_text(frame, date_format: str):
    """Every cell as text, the way staging expects it, except date columns: a column of date cells
    stays a date column (date_format reads text only). Whole numbers lose their '.0' (a numeric
    CPR cell keeps its digits; the lost zero is repaired later). A date cell among text cells is
    written in the source's date format, so it reads back as the date it holds."""
    import pandas as pd  # noqa: PLC0415

    text = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            text[str(name).strip()] = col
        elif pd.api.types.is_integer_dtype(col):
            text[str(name).strip()] = col.astype("string")
        elif pd.api.types.is_float_dtype(col):
            whole = col.notna() & (col == col.round())
            as_int = col.where(whole).astype("Int64").astype("string")
            text[str(name).strip()] = as_int.where(whole, col.astype("string"))
        else:
            text[str(name).strip()] = col.map(
                lambda v: v.strftime(date_format) if hasattr(v, "strftime") else v).astype("string")
    return pd.DataFrame(text)


def _read_parquet(con: duckdb.DuckDBPyConnection, extract: Extract, path: Path, table: str) -> None:
    try:
        described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error:
        raise InputError("the file is not a readable Parquet file", file=path, source=extract.name,
                         hint="check that the extract arrived whole") from None
    names = [r[0] for r in described]
    check_header(names, path, extract.name)
    # date and timestamp columns stay dates (date_format reads text only); the rest becomes text
    casts = ", ".join(sql_identifier(n) if _is_date_type(kind) else
                      f"cast({sql_identifier(n)} as varchar) as {sql_identifier(n)}" for n, kind, *_ in described)
    con.execute(
        f"""create or replace table {table} as
            select {casts}, ? as _file, (file_row_number + 1)::bigint as _line
            from read_parquet(?, file_row_number = true)""",
        [path.name, str(path)],
    )


def _is_date_type(kind: str) -> bool:
    return kind == "DATE" or kind.startswith("TIMESTAMP")


def _check_mapped_columns(con: duckdb.DuckDBPyConnection, extract: Extract, files: list[Path], table: str) -> None:
    present = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    _check_names(extract, files[0], present - {"_file", "_line"})


def _check_names(extract: Extract, path: Path, found: set[str]) -> None:
    """Stop with the file's line 1 when a mapped column is not among the `found` column names.

    A first line that holds a CPR number is data: the file came without its header line, and
    the message lists the column names the sources file expects (never the line itself)."""
    missing = [f"{field} -> '{col}'" for field, col in extract.columns.items() if col not in found]
    if not missing:
        return
    names = sorted(found)
    hint = f"the file has the columns: {privacy.describe_names(names)}"
    problem = f"mapped column(s) missing: {'; '.join(missing)}"
    if no_header := _no_header_hint(names):
        expected = ", ".join(dict.fromkeys(extract.columns.values()))
        problem = f"missing header: expected columns {expected} ({problem})"
        hint = no_header
    elif len(names) == 1 and extract.format == "csv":
        hint = (f"the file has one column only; it is probably not separated by "
                f"'{extract.delimiter}' (check delimiter in the sources file)")
    raise InputError(problem, file=path, line=1, source=extract.name, hint=hint)


def _no_header_hint(names: list[str]) -> str | None:
    """A hint when the header line holds a CPR number: the file came without a header line."""
    if any(privacy.looks_like_cpr(n) for n in names):
        return ("the first line holds a CPR number, not column names: the file seems to have no header "
                "line; ask for the extract with its header (names in the sources file's columns:)")
    return None
