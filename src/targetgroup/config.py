"""The sources configuration: departments, extracts, column mappings and status codes, declared once.

`load_sources(path)` reads a YAML file like the sample's (`SAMPLE_SOURCES`) into a `SourcesConfig`.
Every mistake becomes a `ConfigError` naming the file, the key (with its line) and what to do.
"""

from __future__ import annotations

import difflib
import glob
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

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
# The names municipalities write for the same three encodings (compared lower case, '_' as '-').
# utf-8-sig is UTF-8 with a byte-order mark: every UTF-8 extract may start with one.
ENCODING_NAMES = {
    **dict.fromkeys(("utf-8", "utf8", "utf-8-sig", "utf8-sig", "u8"), "utf-8"),
    **dict.fromkeys(("latin-1", "latin1", "iso-8859-1", "iso8859-1", "iso-8859", "8859-1", "l1"), "latin-1"),
    **dict.fromkeys(("cp1252", "cp-1252", "windows-1252", "win-1252", "win1252", "1252"), "cp1252"),
}


def _encoding_name(value: object) -> object:
    """'UTF8-SIG' -> 'utf-8', 'ISO-8859-1' -> 'latin-1', 'windows-1252' -> 'cp1252'."""
    if not isinstance(value, str):
        return value
    key = value.strip().lower().replace("_", "-")
    if key not in ENCODING_NAMES:
        shown = value if not name_problem(value, MAX_CODE) else "(not shown)"
        raise ValueError(f"unknown encoding '{shown}'; use utf-8 (also utf8, utf-8-sig), latin-1 (also latin1, "
                         "iso-8859-1) or cp1252 (also windows-1252)")
    return ENCODING_NAMES[key]


# The synthetic sample municipality ships inside the package (a wheel install has no repository)
SAMPLE_SOURCES = Path(str(resources.files("targetgroup") / "sample_data" / "sources.yaml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    """A department ('fagsøjle'): code in the key, Danish and English name."""

    name: Name
    name_en: Name


class Connection(_Strict):
    """Where a database source's libpq URI is kept (never in the sources file): exactly one of
    `env` (an environment variable's name) or `file` (an owner-only file, relative to the sources file)."""

    env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=MAX_CODE)
    file: PathText | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Connection":
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env (a variable name) or file (a path), "
                             "e.g. connection: {env: TARGETGROUP_JOB_DB}")
        return self


FILE_FORMATS = ("csv", "xlsx", "parquet")


class Extract(_Strict):
    """How one extract is read: a file (or glob of files) with format, encoding, delimiter,
    dates and columns; or, with `format: postgresql`, a table or query in a database
    (`connection`, `query` or `table`, `statement_timeout_seconds`; docs/postgresql.md)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)
    path: PathText | None = None
    format: Literal["csv", "xlsx", "parquet", "postgresql"]
    connection: Connection | None = None
    query: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    table: Name | None = None
    statement_timeout_seconds: int = Field(600, ge=1, le=86_400)
    encoding: Annotated[Literal["utf-8", "latin-1", "cp1252"], BeforeValidator(_encoding_name)] = "utf-8"
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

    @model_validator(mode="after")
    def _file_or_database(self) -> "Extract":
        if self.format == "postgresql":
            if self.path is not None:
                raise ValueError("a postgresql source has no path: name the table or query instead")
            if self.connection is None:
                raise ValueError("a postgresql source needs connection: {env: VARIABLE} or {file: path}")
            if (self.query is None) == (self.table is None):
                raise ValueError("a postgresql source needs exactly one of query or table")
            if "\x00" in (self.query or ""):
                raise ValueError("the query contains a NUL character")
            if self.table is not None and not 1 <= len(self.table_parts) <= 3:
                raise ValueError("table is a name, schema.name or database.schema.name, e.g. momentum.v_sager")
        else:
            if self.path is None:
                raise ValueError(f"a {self.format} source needs path: (the file or a glob)")
            given = [k for k in ("connection", "query", "table") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to format: postgresql")
        return self

    @property
    def table_parts(self) -> list[str]:
        """`table` split at its dots (schema, name); each part is quoted on its own when used."""
        parts = (self.table or "").split(".")
        return parts if all(p.strip() for p in parts) else []

    def files(self, base: Path) -> list[Path]:
        """The files this extract reads today, sorted; `path` may be a glob relative to `base`.
        A database source has none."""
        if self.path is None:
            return []
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
        return sorted(status_key(code) for code, active in self.statuses.items() if active)


class PersonSource(Extract):
    """The CPR register extract: one row per citizen."""

    name: str = Field("persons", pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)   # names raw_<name>

    @model_validator(mode="after")
    def _columns_complete(self) -> "PersonSource":
        _check_columns(self.columns, PERSON_FIELDS_REQUIRED, PERSON_FIELDS_OPTIONAL)
        return self


# Whitespace a status cell may carry around its code: Python's str.strip() removes the same
# characters from the codes in the sources file (staging trims cells with these in SQL).
STATUS_BLANKS = " \t\r\n\u00a0\u2007\u202f\ufeff"


def status_key(code: str) -> str:
    """A status code as compared: trimmed of spaces, tabs and non-breaking spaces, lower case."""
    return code.strip(STATUS_BLANKS).lower()


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
        if self.format not in FILE_FORMATS:
            raise ValueError("a marking list is read from a file (csv, xlsx or parquet)")
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
    `meetings` (optional) the folder of the departments' records of transition meetings held (CSV, docs/meetings.md);
    `caseload` (optional) the capacity per caseworker and per team (`Caseload`).
    """

    departments: dict[FileCode, Department]
    persons: PersonSource
    sources: list[CaseSource]
    markings: list[MarkingSource] = []
    suppressions: PathText | None = None
    consents: PathText | None = None
    coordinators: PathText | None = None
    meetings: PathText | None = None
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
                          hint=f"see {SAMPLE_SOURCES} for a complete example")
    try:
        config = SourcesConfig(**data, file=path, base=path.parent)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also makes its right spelling 'missing': name the typo, where it is
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
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
        known = _known_keys(key_path[:-1])
        close = difflib.get_close_matches(str(key_path[-1]), known, n=1, cutoff=0.6)
        if close:
            return f"did you mean '{close[0]}'?"
        return (f"known keys here: {', '.join(known)}; " if known else "") + \
            f"the keys are documented at the top of {SAMPLE_SOURCES}"
    if err["type"] == "missing":
        return f"add '{key_path[-1]}' here"
    if "columns" in key_path or "columns" in err["msg"]:
        return "map each canonical field to the column name in the extract, e.g. cpr: CPR-nr"
    return f"see the documented keys at the top of {SAMPLE_SOURCES}"


def _known_keys(parent: KeyPath) -> list[str]:
    """The keys the model at `parent` (e.g. ('sources', 0)) accepts, for 'did you mean'."""
    node: object = SourcesConfig
    for part in parent:
        node = _inner(node, part)
        if node is None:
            return []
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [k for k in node.model_fields if node is not SourcesConfig or k not in ("file", "base")]
    return []


def _inner(node: object, part: str | int) -> object:
    """The type one step into `node` (a model, list, dict, Optional or Annotated type)."""
    while get_origin(node) in (Annotated, Union, UnionType):
        node = next((a for a in get_args(node) if a is not type(None)), None)
    if isinstance(node, type) and issubclass(node, BaseModel):
        field = node.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field else None
    if get_origin(node) is list and isinstance(part, int):
        return get_args(node)[0]
    if get_origin(node) is dict and isinstance(part, str):
        return get_args(node)[1]
    return None


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
            if extract.format in FILE_FORMATS and not extract.files(config.base):
                key = key_path + ("path",)
                raise ConfigError(f"no file matches '{extract.path}' (looked in {config.base})",
                                  file=file, key=dotted(key), line=line_of(lines, key),
                                  hint="check the path, or pass --sources with the right configuration")
