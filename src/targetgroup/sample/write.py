"""Writing the synthetic extracts: CPR styles per system, CSV, XLSX and Parquet writers, and
the sources.yaml that describes a CSV or Parquet copy of the sample.

Every writer is deterministic: the same table gives byte-identical files.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from targetgroup.sample.population import Population
from targetgroup.warehouse import sql_literal

# How each system shows a CPR number. "number": Excel has turned it into a number (leading
# zero lost); "mixed": typed by hand, with a dash, a space or nothing.
CPR_STYLE = {"BUF": "dashed", "JOB": "number", "SOC": "plain", "SUND": "plain", "UNG": "mixed"}
FIXED_CREATED = datetime(2026, 1, 1)
TRANSCODE_CHUNK = 1 << 24  # characters per read when re-encoding to latin-1


def cpr_strings(cpr: pa.Array | np.ndarray) -> pa.Array:
    """Ten-digit strings with the leading zero (nulls stay null)."""
    return pc.utf8_lpad(pc.cast(pa.array(cpr), pa.string()), width=10, padding="0")


def styled_cpr(cpr: np.ndarray, style: str, rng: np.random.Generator) -> pa.Array:
    """The CPR column as the system in question delivers it."""
    if style == "number":
        return pa.array(cpr, type=pa.int64())
    plain = cpr_strings(cpr)
    if style == "plain":
        return plain
    head, tail = pc.utf8_slice_codeunits(plain, 0, 6), pc.utf8_slice_codeunits(plain, 6, 10)
    dashed = pc.binary_join_element_wise(head, tail, "-")
    if style == "dashed":
        return dashed
    spaced = pc.binary_join_element_wise(head, tail, " ")
    pick = rng.choice(3, size=len(cpr), p=[0.5, 0.2, 0.3])
    return pc.if_else(pa.array(pick == 0), dashed, pc.if_else(pa.array(pick == 1), spaced, plain))


AREAS = 12   # the sample's housing areas, FIKTIV-01 .. FIKTIV-12


def area_codes(household: np.ndarray) -> pa.Array:
    """The housing area (address code) of each household: one of the visibly synthetic codes
    FIKTIV-01 .. FIKTIV-12, fixed per household number (no random draw, so adding the column
    changes no other value of the sample). A household that moves within the municipality in the
    history gets its new household number's area."""
    number = (np.asarray(household, dtype=np.int64) * 7) % AREAS + 1
    return pa.array(np.char.add("FIKTIV-", np.char.zfill(number.astype(str), 2)))


def person_table(pop: Population, columns: dict[str, str]) -> pa.Table:
    """The CPR register extract (one row per citizen), named as in the sources' `persons.columns`."""
    def linked(index: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(index >= 0), cpr_strings(pop.cpr[np.maximum(index, 0)]), pa.scalar(None, pa.string()))

    household = pc.utf8_lpad(pc.cast(pa.array(pop.household), pa.string()), width=6, padding="0")
    canonical = {
        "cpr": cpr_strings(pop.cpr),
        "name": pop.name,
        "birth_date": pa.array(pop.birth, type=pa.date32()),
        "household_id": pc.binary_join_element_wise(pa.scalar("H"), household, ""),
        "mother_cpr": linked(pop.mother),
        "father_cpr": linked(pop.father),
        "death_date": pa.array(pop.death, type=pa.date32(), from_pandas=True),
        "moved_away_date": pa.array(pop.moved, type=pa.date32(), from_pandas=True),
        "protected": pa.array(np.where(pop.protected, "1", "0")),
        "area": area_codes(pop.household),
    }
    return pa.table({columns[key]: canonical[key] for key in columns})


def case_table(cases: pa.Table, columns: dict[str, str], cpr: pa.Array) -> pa.Table:
    """A department's cases with the CPR in the system's style, named as in the source's `columns`."""
    canonical = cases.set_column(cases.schema.get_field_index("cpr"), "cpr", cpr)
    return pa.table({columns[key]: canonical[key] for key in columns})


def write_extract(table: pa.Table, out_dir: Path, spec: dict) -> int:
    """Write `table` as `spec` (a persons or sources entry) declares; return the number of rows."""
    path = out_dir / spec["path"]
    if spec["format"] == "csv":
        write_csv(table, path, spec.get("encoding", "utf-8"), spec.get("delimiter", ","),
                  spec.get("date_format", "%Y-%m-%d"))
    elif spec["format"] == "xlsx":
        write_xlsx(table, path, spec.get("sheet", "Sheet1"))
    elif spec["format"] == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        raise ValueError(f"unknown format {spec['format']!r}")
    return table.num_rows


def write_csv(table: pa.Table, path: Path, encoding: str, delimiter: str, date_format: str) -> None:
    """CSV via DuckDB; for latin-1, written as UTF-8 first and re-encoded in chunks."""
    target = path if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else path.with_name(path.name + ".utf8.tmp")
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.register("extract", table)
        options = f"format csv, header true, delimiter {sql_literal(delimiter)}, dateformat {sql_literal(date_format)}"
        con.execute(f"copy (select * from extract) to {sql_literal(target)} ({options})")
    finally:
        con.close()
    if target != path:
        with open(target, encoding="utf-8", newline="") as src, open(path, "w", encoding=encoding, newline="") as dst:
            while chunk := src.read(TRANSCODE_CHUNK):
                dst.write(chunk)
        os.remove(target)


def write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    """One sheet, header row, numbers as numbers and dates as Excel date cells (dd-mm-yyyy)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "default_date_format": "dd-mm-yyyy"})
    workbook.set_properties({"created": FIXED_CREATED, "author": "targetgroup sample"})
    worksheet = workbook.add_worksheet(sheet)
    worksheet.write_row(0, 0, table.column_names)
    columns = [column.to_pylist() for column in table.columns]
    for row, values in enumerate(zip(*columns), start=1):
        worksheet.write_row(row, 0, values)
    workbook.close()


def derived_sources(sources: dict, fmt: str) -> dict:
    """The sample's sources with every extract switched to `fmt` (csv: UTF-8, comma, ISO dates)."""
    derived = copy.deepcopy(sources)
    for spec in [derived["persons"], *derived["sources"]]:
        spec["path"] = f"{Path(spec['path']).stem}.{fmt}"
        spec["format"] = fmt
        for key in ("sheet", "encoding", "delimiter", "date_format"):
            spec.pop(key, None)
        if fmt == "csv":
            spec.update(encoding="utf-8", delimiter=",", date_format="%Y-%m-%d")
    return derived
