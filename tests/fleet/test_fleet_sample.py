"""The synthetic fleet (`targetgroup sample --fleet`): Denmark's 98 municipalities, scaled."""

from __future__ import annotations

import csv
import stat
from datetime import date

import pytest

from targetgroup.fleet.file import load_fleet
from targetgroup.fleet.sample import MIN_CITIZENS, generate_fleet, populations


def test_the_table_holds_denmarks_98_municipalities():
    sizes = populations()
    assert len(sizes) == 98 and len({s.code for s in sizes}) == 98 and len({s.name for s in sizes}) == 98
    # 5,961,249 lived in Denmark on 1 January 2024 (Statistics Denmark); the table is rounded to hundreds
    assert abs(sum(s.population for s in sizes) - 5_961_249) < 98 * 100
    by_name = {s.municipality: s.population for s in sizes}
    assert max(by_name, key=by_name.get) == "København" and min(by_name, key=by_name.get) == "Læsø"
    assert {s.region for s in sizes} == {"Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"}


@pytest.mark.slow   # writes three municipalities (a few seconds)
def test_generated_fleet_loads_and_has_the_scaled_sizes(tmp_path):
    fleet_file = generate_fleet(tmp_path / "fleet", scale=0.0005, only=3, reference_date=date(2026, 11, 1))
    fleet = load_fleet(fleet_file)                       # the checks pass: own folders, own keys
    assert fleet.names() == ["koebenhavn", "frederiksberg", "ballerup"]
    # 659,400 x 0.0005 = 329.7 -> 330; Frederiksberg 52; Ballerup 26: both raised to the minimum
    for m, expected in zip(fleet.municipalities, (330, MIN_CITIZENS, MIN_CITIZENS)):
        with open(m.sources.parent / "cpr_register.csv", encoding="utf-8-sig") as fh:
            assert sum(1 for _ in csv.reader(fh)) - 1 == expected
        assert stat.S_IMODE(m.pseudonym_key_file.stat().st_mode) == 0o600
    keys = {m.pseudonym_key_file.read_text() for m in fleet.municipalities}
    assert len(keys) == 3
    registers = [(m.sources.parent / "cpr_register.csv").read_text(encoding="utf-8-sig") for m in fleet.municipalities]
    assert len(set(registers)) == 3                      # each its own seed
