"""A synthetic fleet: Denmark's 98 municipalities at their real sizes, scaled, each its own sample.

    populations()                                  -> list[Size] (data/folk1a_2024.csv, source stated there)
    generate_fleet(out_dir, scale=0.01, ...)       -> Path of out_dir/fleet.yaml

For every municipality a folder `out_dir/<name>/` with the synthetic extracts and sources.yaml
(targetgroup.sample.generate, with its own size and seed: the seed is the municipality's code,
plus `seed`), its own pseudonym key file (a random secret, mode 600) and an `out/` folder for its
runs; and `out_dir/fleet.yaml` naming them all. Size = round(population x scale), at least
`MIN_CITIZENS` (the generator's smallest municipality that still plants every pattern).
"""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import yaml

from targetgroup.deliver.files import make_private_dir, write_text
from targetgroup.errors import ConfigError

MIN_CITIZENS = 200
DEFAULT_SCALE = 0.01
DATA = "folk1a_2024.csv"
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", " ": "-"})


@dataclass(frozen=True)
class Size:
    """One municipality: its code, Danish name, region and population (FOLK1A)."""

    code: int
    municipality: str
    region: str
    population: int

    @property
    def name(self) -> str:
        """Its name in the fleet file: lower-case ASCII, e.g. 'koebenhavn', 'ringkoebing-skjern'."""
        return self.municipality.translate(_ASCII).lower()

    def citizens(self, scale: float) -> int:
        """The synthetic municipality's size at `scale`."""
        return max(MIN_CITIZENS, round(self.population * scale))


def populations() -> list[Size]:
    """The 98 municipalities from the package's data file (comment lines start with '#')."""
    text = resources.files("targetgroup.fleet").joinpath("data", DATA).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [Size(int(r["code"]), r["municipality"], r["region"], int(r["population"])) for r in rows]


def generate_fleet(out_dir: Path, scale: float = DEFAULT_SCALE, seed: int = 0,
                   reference_date: date = date(2026, 11, 1), only: int | None = None,
                   progress=None) -> Path:
    """Write the synthetic fleet into `out_dir`; return the fleet file's path.

    `only`: the first N municipalities of the data file (tests); `progress(name, citizens)` is
    called after each municipality is written.
    """
    from targetgroup.sample import generate  # noqa: PLC0415 - numpy/pyarrow only when generating

    if not 0 < scale <= 1:
        raise ConfigError(f"scale {scale} is not in (0, 1]", hint="e.g. 0.01 for one citizen in a hundred")
    out_dir = make_private_dir(Path(out_dir))
    entries = []
    for size in populations()[:only]:
        folder = make_private_dir(out_dir / size.name)
        generate(folder, citizens=size.citizens(scale), seed=seed + size.code, reference_date=reference_date)
        key = folder / "pseudonym.key"
        if not key.exists():
            write_text(key, secrets.token_hex(32) + "\n")
        entries.append({"name": size.name, "sources": f"{size.name}/sources.yaml", "out": f"{size.name}/out",
                        "pseudonym_key_file": f"{size.name}/pseudonym.key"})
        if progress:
            progress(size.name, size.citizens(scale))
    header = (f"# Synthetic fleet: Denmark's municipalities at their population on 1 January 2024\n"
              f"# (Statistics Denmark, FOLK1A; see targetgroup/fleet/data/{DATA}) x {scale}, at least\n"
              f"# {MIN_CITIZENS} citizens each. All CPR numbers are synthetic. Written by targetgroup sample --fleet.\n")
    fleet_file = out_dir / "fleet.yaml"
    write_text(fleet_file, header + yaml.safe_dump({"memory_limit": "1GB", "threads": 1, "municipalities": entries},
                                                   sort_keys=False, allow_unicode=True))
    return fleet_file
