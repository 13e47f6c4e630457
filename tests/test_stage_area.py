"""The person extract's optional area column: mapped in sources.yaml, staged trimmed, checked."""

from __future__ import annotations

import pytest
from conftest import PERSONS_CSV, SOURCES_YAML, write_municipality

from targetgroup import extract, stage
from targetgroup.config import load_sources
from targetgroup.errors import InputError
from targetgroup.warehouse import open_work

AREA_YAML = SOURCES_YAML.replace("moved_away_date: moved}", "moved_away_date: moved, area: omraade}")


def _with_area(cells: list[str]) -> str:
    lines = PERSONS_CSV.strip().split("\n")
    return "\n".join([lines[0] + ",omraade", *(f"{row},{cell}" for row, cell in zip(lines[1:], cells))]) + "\n"


def test_area_is_staged_trimmed_and_empty_is_null(tmp_path):
    assert AREA_YAML != SOURCES_YAML
    cells = [" Vollsmose ", "Vollsmose", "", "BAKKEN", "x", "y", "z"]
    config = load_sources(write_municipality(tmp_path / "in", **{"sources.yaml": AREA_YAML,
                                                                  "persons.csv": _with_area(cells)}))
    con = open_work()
    stage.stage_all(con, config, extract.read_all(con, config).tables)
    got = dict(con.execute("select cpr, area from persons").fetchall())
    assert got["0101800001"] == "Vollsmose" and got["0101150002"] == "Vollsmose"
    assert got["0202800003"] is None and got["0303900004"] == "BAKKEN"


def test_an_area_mapping_to_a_missing_column_names_file_and_column(tmp_path):
    config = load_sources(write_municipality(tmp_path / "in", **{"sources.yaml": AREA_YAML}), check_files=False)
    con = open_work()
    with pytest.raises(InputError, match=r"persons\.csv.*area -> 'omraade'|area -> 'omraade'.*persons\.csv"):
        extract.read_all(con, config)
