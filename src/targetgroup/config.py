"""The sources configuration: departments, extracts, column mappings and status codes, declared once.

`load_sources(path)` reads a YAML file like `sample_data/sources.yaml` into a `SourcesConfig`.
Every mistake becomes a `ConfigError` naming the file, the key (with its line) and what to do.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from targetgroup.errors import ConfigError
from targetgroup.limits import MAX_CODE, MAX_NAME, MAX_PATH, file_name_problem, name_problem
from targetgroup.yamlsource import KeyPath, dotted, line_of, load_yaml


def _checked(max_len: int, file_name: bool = False):
    def check(value: str) -> str:
        problem = file_name_problem(value) if file_name else name_problem(value, max_len)
        if problem:
            raise ValueError(f"the value {problem}")
        return value
    return AfterValidator(check)


# Codes and names are checked when the file is loaded (docs/security.md): printable, no control
# characters or text-direction marks, a sane length. FileCode also names output files.
Code = Annotated[str, _checked(MAX_CODE)]
FileCode = Annotated[str, _checked(MAX_CODE, file_name=True)]
Name = Annotated[str, _checked(MAX_NAME)]
PathText = Annotated[str, _checked(MAX_PATH)]

CASE_FIELDS_REQUIRED = ("cpr", "case_id", "status", "start_date")
CASE_FIELDS_OPTIONAL = ("case_type", "end_date", "caseworker", "team", "consent")
PERSON_FIELDS_REQUIRED = ("cpr", "birth_date")
PERSON_FIELDS_OPTIONAL = ("name", "household_id", "mother_cpr", "father_cpr", "death_date",
                          "moved_away_date", "protected", "area")
MARKING_FIELDS_REQUIRED = ("cpr",)
MARKING_FIELDS_OPTIONAL = ("marking_code", "start_date", "end_date")
ENCODINGS = ("utf-8", "latin-1", "cp1252")

SAMPLE_SOURCES = Path(__file__).resolve().parents[2] / "sample_data" / "sources.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    """A department ('fagsøjle'): code in the key, Danish and English name."""

    name: Name
    name_en: Name


class Extract(_Strict):
    """How one file (or glob of files) is read: format, encoding, delimiter, dates, columns."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)
    path: PathText
    format: Literal["csv", "xlsx", "parquet"]
    encoding: Literal["utf-8", "latin-1", "cp1252"] = "utf-8"
    delimiter: str = ","
    sheet: Name | int = 0
    date_format: Name = "%Y-%m-%d"
    columns: dict[str, Name]

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("the delimiter must be exactly one character, e.g. ';'")
        if value in "\n\r\x00\"" or (value != "\t" and name_problem(value)):
            raise ValueError("the delimiter cannot be a quote, a newline or a control character other than tab")
        return value

    def files(self, base: Path) -> list[Path]:
        """The files this extract reads today, sorted; `path` may be a glob relative to `base`."""
        pattern = str(base / self.path)
        return sorted(Path(p) for p in glob.glob(pattern))


class CaseSource(Extract):
    """A department's case extract; `statuses` maps every status code to active yes/no."""

    department: FileCode
    system: FileCode
    statuses: dict[Code, bool]
    case_types: list[Code] = []
    consent_values: dict[Code, Literal["given", "refused"]] = {}
    marking_code: Code | None = None

    @model_validator(mode="after")
    def _columns_complete(self) -> "CaseSource":
        _check_columns(self.columns, CASE_FIELDS_REQUIRED, CASE_FIELDS_OPTIONAL)
        if not self.statuses:
            raise ValueError("statuses is empty: list every status code and whether it is active")
        if not any(self.statuses.values()):
            raise ValueError("no status code is marked active (true): no case would ever count")
        return self

    @property
    def active_codes(self) -> list[str]:
        """Status codes that count as active, normalised (trimmed, lower case)."""
        return sorted(code.strip().lower() for code, active in self.statuses.items() if active)


class PersonSource(Extract):
    """The CPR register extract: one row per citizen."""

    name: str = Field("persons", pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)   # names raw_<name>

    @model_validator(mode="after")
    def _columns_complete(self) -> "PersonSource":
        _check_columns(self.columns, PERSON_FIELDS_REQUIRED, PERSON_FIELDS_OPTIONAL)
        return self


def _check_columns(columns: dict[str, str], required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    missing = [f for f in required if f not in columns]
    if missing:
        raise ValueError(f"columns has no mapping for required field(s) {', '.join(missing)}")
    unknown = [f for f in columns if f not in required + optional]
    if unknown:
        raise ValueError(f"unknown canonical field(s) {', '.join(unknown)}; "
                         f"known: {', '.join(required + optional)}")


class MarkingSource(Extract):
    """The markings a case system holds today (optional): for reconciliation with the register."""

    system: FileCode

    @model_validator(mode="after")
    def _columns_complete(self) -> "MarkingSource":
        _check_columns(self.columns, MARKING_FIELDS_REQUIRED, MARKING_FIELDS_OPTIONAL)
        return self


class Quality(_Strict):
    """The optional `quality:` section: how strict the quality gate is (docs/quality.md)."""

    severity: dict[str, Literal["error", "warning"]] = {}
    volume_drop: float = Field(0.20, ge=0, le=1)
    future_years: int = Field(5, ge=0, le=100)
    max_reject_share: float = Field(0.05, ge=0, le=1)
    min_rows: int = Field(1, ge=0)


Level = Literal["shown", "with_consent", "hidden"]


class Disclosure(_Strict):
    """The optional `disclosure:` section: whose involvement a caseworker list may show.

    For a citizen in department D's list, department X's involvement (X's caseworker and team,
    never case details) is shown at the level `to[X][D]`, else `departments[X]`, else `default`:
    shown, with_consent (only when the citizen's consent is given and covers X), or hidden.
    """

    default: Level = "shown"
    departments: dict[str, Level] = {}
    to: dict[str, dict[str, Level]] = {}

    def level(self, shown: str, to: str) -> Level:
        """How department `shown`'s involvement may be shown to department `to`'s caseworkers."""
        return self.to.get(shown, {}).get(to) or self.departments.get(shown) or self.default


class Outcomes(_Strict):
    """The optional `outcomes:` section: which case types count as a benefit and which as
    education or guidance when the leadership report follows citizens after a course
    (docs/outcomes.md). Each must be a case type some source declares."""

    benefit_case_types: list[str] = []
    education_case_types: list[str] = []


class Caseload(_Strict):
    """The optional `caseload:` section: the planned number of ongoing courses one caseworker
    (as coordinator) and one team can hold; the leadership report sets the counts against it."""

    capacity_per_caseworker: int | None = Field(default=None, ge=1, le=10_000)
    capacity_per_team: int | None = Field(default=None, ge=1, le=100_000)


class SourcesConfig(_Strict):
    """The whole sources file. `base` is the folder relative paths are resolved against.

    `markings` (optional) lists the coordinated-course markings each case system holds today;
    `suppressions` (optional) is the folder of the departments' removal files (CSV);
    `consents` (optional) the folder of the departments' consent records (CSV, docs/consent.md);
    `disclosure` (optional) the disclosure policy (`Disclosure`);
    `outcomes` (optional) the benefit and education case types (`Outcomes`);
    `coordinators` (optional) the folder of the departments' coordinator records (CSV, docs/coordinators.md);
    `caseload` (optional) the capacity per caseworker and per team (`Caseload`).
    """

    departments: dict[FileCode, Department]
    persons: PersonSource
    sources: list[CaseSource]
    markings: list[MarkingSource] = []
    suppressions: PathText | None = None
    consents: PathText | None = None
    coordinators: PathText | None = None
    disclosure: Disclosure = Disclosure()
    quality: Quality = Quality()
    outcomes: Outcomes = Outcomes()
    caseload: Caseload = Caseload()
    file: Path = Path("sources.yaml")
    base: Path = Path(".")

    def source(self, name: str) -> CaseSource:
        """The case source called `name`."""
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(name)

    @property
    def systems(self) -> list[str]:
        """Case systems in declaration order, each once."""
        return list(dict.fromkeys(s.system for s in self.sources))


def load_sources(path: Path | str, *, check_files: bool = True) -> SourcesConfig:
    """Read and check a sources file; relative paths in it are taken from its folder."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with departments, persons and sources", file=path,
                          hint="see sample_data/sources.yaml for a complete example")
    try:
        config = SourcesConfig(**data, file=path, base=path.parent)
    except ValidationError as exc:
        err = exc.errors()[0]
        key_path: KeyPath = tuple(p for p in err["loc"] if p not in ("function-after", "[key]"))
        raise ConfigError(_explain(err), file=path, key=dotted(key_path) or None,
                          line=line_of(lines, key_path), hint=_hint(err, key_path)) from None
    _check_consistency(config, lines, check_files)
    return config


def _explain(err: dict) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    return msg


def _hint(err: dict, key_path: KeyPath) -> str:
    if err["type"] == "extra_forbidden":
        return "check the spelling; the keys are documented at the top of sample_data/sources.yaml"
    if err["type"] == "missing":
        return f"add '{key_path[-1]}' here"
    if "columns" in key_path or "columns" in err["msg"]:
        return "map each canonical field to the column name in the extract, e.g. cpr: CPR-nr"
    return "see the documented keys at the top of sample_data/sources.yaml"


def _check_quality(config: SourcesConfig, lines: dict[KeyPath, int]) -> None:
    """Severity overrides must name a known expectation, optionally prefixed by an extract name."""
    from targetgroup.validate.suites import EXPECTATIONS  # noqa: PLC0415 - no import cycle at load

    names = {config.persons.name, *(s.name for s in config.sources)}
    for key in config.quality.severity:
        prefix, _, check = key.rpartition(".")
        if check not in EXPECTATIONS or (prefix and prefix not in names):
            key_path = ("quality", "severity", key)
            raise ConfigError(f"unknown expectation '{key}'", file=config.file, key=dotted(key_path),
                              line=line_of(lines, key_path),
                              hint=f"use one of {', '.join(EXPECTATIONS)}, optionally as <source>.<expectation>")


def _check_disclosure(config: SourcesConfig, lines: dict[KeyPath, int]) -> None:
    """Every department the disclosure policy names must be declared."""
    named: list[tuple[KeyPath, str]] = [(("disclosure", "departments", d), d) for d in config.disclosure.departments]
    for shown, targets in config.disclosure.to.items():
        named.append((("disclosure", "to", shown), shown))
        named += [(("disclosure", "to", shown, d), d) for d in targets]
    for key_path, dept in named:
        if dept not in config.departments:
            raise ConfigError(f"unknown department '{dept}' in the disclosure policy", file=config.file,
                              key=dotted(key_path), line=line_of(lines, key_path),
                              hint=f"use one of {', '.join(config.departments)}")


def _check_outcomes(config: SourcesConfig, lines: dict[KeyPath, int]) -> None:
    """Every case type the outcomes section names must be declared by a source."""
    declared = {t for s in config.sources for t in s.case_types}
    for field_name in ("benefit_case_types", "education_case_types"):
        for i, case_type in enumerate(getattr(config.outcomes, field_name)):
            if case_type not in declared:
                key_path = ("outcomes", field_name, i)
                raise ConfigError(f"case type '{case_type}' is not declared by any source", file=config.file,
                                  key=dotted(key_path), line=line_of(lines, key_path),
                                  hint="use a case type listed under a source's case_types (spelled the same)")


def _check_consistency(config: SourcesConfig, lines: dict[KeyPath, int], check_files: bool) -> None:
    file = config.file
    seen: set[str] = set()
    for i, src in enumerate(config.sources):
        if src.department not in config.departments:
            key = ("sources", i, "department")
            raise ConfigError(f"unknown department '{src.department}'", file=file, key=dotted(key),
                              line=line_of(lines, key),
                              hint=f"use one of {', '.join(config.departments)} or declare it under departments")
        if src.name in seen or src.name == config.persons.name:
            key = ("sources", i, "name")
            raise ConfigError(f"source name '{src.name}' is used twice", file=file, key=dotted(key),
                              line=line_of(lines, key), hint="give every source its own name")
        seen.add(src.name)
        if "consent" in src.columns and not src.consent_values:
            key = ("sources", i, "consent_values")
            raise ConfigError("consent is mapped but consent_values is missing", file=file,
                              key=dotted(key), line=line_of(lines, ("sources", i)),
                              hint="map each consent value to given or refused, e.g. {ja: given, nej: refused}")
    for i, marking in enumerate(config.markings):
        if marking.system not in config.systems:
            key = ("markings", i, "system")
            raise ConfigError(f"unknown case system '{marking.system}'", file=file, key=dotted(key),
                              line=line_of(lines, key),
                              hint=f"use one of {', '.join(config.systems)} (the systems of the sources)")
        if marking.name in seen or marking.name == config.persons.name:
            key = ("markings", i, "name")
            raise ConfigError(f"source name '{marking.name}' is used twice", file=file, key=dotted(key),
                              line=line_of(lines, key), hint="give every extract its own name")
        seen.add(marking.name)
    _check_quality(config, lines)
    _check_disclosure(config, lines)
    _check_outcomes(config, lines)
    if check_files:
        extracts: list[tuple[KeyPath, Extract]] = [(("persons",), config.persons)]
        extracts += [(("sources", i), s) for i, s in enumerate(config.sources)]
        extracts += [(("markings", i), m) for i, m in enumerate(config.markings)]
        for key_path, extract in extracts:
            if not extract.files(config.base):
                key = key_path + ("path",)
                raise ConfigError(f"no file matches '{extract.path}' (looked in {config.base})",
                                  file=file, key=dotted(key), line=line_of(lines, key),
                                  hint="check the path, or pass --sources with the right configuration")
