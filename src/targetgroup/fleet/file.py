"""The fleet file: which municipalities one operator runs, each with its own files and folders.

    municipalities:
      - name: odense                                   # a code: letters, digits, '-', '_'
        sources: odense/sources.yaml                   # relative paths: from the fleet file's folder
        rules: default                                 # what `targetgroup run --rules` takes
        out: odense/out                                # its own run folders and warehouse
        pseudonym_key_file: odense/pseudonym.key       # its own analysts' key (mode 600)
        delivery: odense/delivery.yaml                 # optional
        memory_limit: 1GB                              # optional, else the file's top-level value
        threads: 1                                     # optional, else the file's top-level value
    memory_limit: 1GB                                  # optional: DuckDB's limit for each run
    threads: 1                                         # optional: DuckDB threads for each run

    load_fleet(path) -> Fleet      (ConfigError with file, line and key on every problem)

Checked at load, before any run starts: unknown keys, names (codes, unique), files that must
exist (sources, rules, key, delivery), output folders that are the same or one inside another,
and pseudonym keys shared between municipalities (the same file, or two files holding the same
key): each municipality is its own data controller, so nothing of one may land in another's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from targetgroup.deliver import analyst
from targetgroup.errors import ConfigError, TargetGroupError
from targetgroup.limits import shown
from targetgroup.rules.load import resolve_rules
from targetgroup.yamlsource import KeyPath, dotted, line_of, load_yaml

MAX_NAME = 64
NAME = re.compile(r"^[A-Za-z0-9æøåÆØÅ][A-Za-z0-9æøåÆØÅ_-]*$")
MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
ENTRY_KEYS = {"name", "sources", "rules", "out", "pseudonym_key_file", "delivery", "memory_limit", "threads"}
TOP_KEYS = {"municipalities", "memory_limit", "threads"}


@dataclass(frozen=True)
class Municipality:
    """One municipality of the fleet: absolute paths, checked to exist (out may not exist yet)."""

    name: str
    sources: Path
    rules: Path
    out: Path
    pseudonym_key_file: Path
    delivery: Path | None = None
    memory_limit: str | None = None
    threads: int | None = None


@dataclass(frozen=True)
class Fleet:
    """The whole fleet file: its path and its municipalities in file order."""

    file: Path
    municipalities: tuple[Municipality, ...]

    def names(self) -> list[str]:
        """The municipalities' names in file order."""
        return [m.name for m in self.municipalities]


def load_fleet(path: Path | str) -> Fleet:
    """Read and check a fleet file; relative paths in it are taken from its folder."""
    path = Path(path)
    data, lines = load_yaml(path)
    base = path.resolve().parent

    def fail(message: str, key: KeyPath, hint: str) -> ConfigError:
        return ConfigError(message, file=path, key=dotted(key) or None, line=line_of(lines, key), hint=hint)

    if not isinstance(data, dict) or not isinstance(data.get("municipalities"), list) or not data["municipalities"]:
        raise fail("expected a mapping with a list 'municipalities'", (),
                   hint="see the example at the top of docs/fleet.md")
    for key in data:
        if key not in TOP_KEYS:
            raise fail(f"unknown key '{shown(key)}'", (key,), hint=f"the top-level keys are {', '.join(sorted(TOP_KEYS))}")
    defaults = {"memory_limit": _memory(data.get("memory_limit"), ("memory_limit",), fail),
                "threads": _threads(data.get("threads"), ("threads",), fail)}
    entries = [_entry(item, i, base, defaults, fail) for i, item in enumerate(data["municipalities"])]
    _check_distinct(entries, fail)
    return Fleet(file=path, municipalities=tuple(entries))


def _entry(item: object, i: int, base: Path, defaults: dict, fail) -> Municipality:
    at: KeyPath = ("municipalities", i)
    if not isinstance(item, dict):
        raise fail("expected a mapping (name, sources, rules, out, pseudonym_key_file)", at,
                   hint="start each municipality with '- name: ...'")
    for key in item:
        if key not in ENTRY_KEYS:
            raise fail(f"unknown key '{shown(key)}'", at + (key,), hint=f"the keys are {', '.join(sorted(ENTRY_KEYS))}")
    for key in ("name", "sources", "out", "pseudonym_key_file"):
        if item.get(key) in (None, ""):
            raise fail("required key is missing", at + (key,), hint=f"add '{key}' to this municipality")
    name = item["name"]
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.match(name):
        raise fail("a municipality's name must be a code of letters, digits, '-' and '_' "
                   f"(at most {MAX_NAME}, starting with a letter or digit)", at + ("name",),
                   hint="it names log files and summary rows, e.g. odense or aeroe-kommune")

    def file(key: str) -> Path:
        value = item[key]
        if not isinstance(value, str):
            raise fail("expected a path", at + (key,), hint="write the path as text")
        target = base / value
        if not target.is_file():
            raise fail("file not found", at + (key,), hint=f"{name}: check the path; it is taken from the fleet file's folder")
        return target.resolve()

    sources = file("sources")
    key_file = file("pseudonym_key_file")
    try:
        analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(key_file)})   # mode 600, outside git, long enough
    except ConfigError as exc:
        raise fail(f"{name}'s pseudonym key file: {exc.message}", at + ("pseudonym_key_file",), hint=exc.hint or "") from None
    rules = _rules(item.get("rules"), base, name, at, fail)
    delivery = file("delivery") if item.get("delivery") not in (None, "") else None
    if not isinstance(item["out"], str):
        raise fail("expected a path", at + ("out",), hint="write the path as text")
    out = (base / item["out"]).resolve()
    if out.exists() and not out.is_dir():
        raise fail("the output folder is a file", at + ("out",), hint="name a folder (it is created if missing)")
    return Municipality(name=name, sources=sources, rules=rules, out=out, pseudonym_key_file=key_file,
                        delivery=delivery,
                        memory_limit=_memory(item.get("memory_limit"), at + ("memory_limit",), fail) or defaults["memory_limit"],
                        threads=_threads(item.get("threads"), at + ("threads",), fail) or defaults["threads"])


def _rules(value: object, base: Path, name: str, at: KeyPath, fail) -> Path:
    """What `targetgroup run --rules VALUE` would use; a relative file is taken from the fleet's folder."""
    if value is not None and not isinstance(value, str):
        raise fail("expected a rule set's name or a rule file's path", at + ("rules",), hint="write it as text")
    if isinstance(value, str) and (base / value).is_file():
        value = str(base / value)
    elif isinstance(value, str) and ("/" in value or "\\" in value):   # a path, not a rule set's name
        raise fail("rule file not found", at + ("rules",),
                   hint=f"{name}: a path is taken relative to the fleet file's folder; or name a rule set")
    try:
        rules = resolve_rules(value, cwd=base)
    except TargetGroupError as exc:
        raise fail(f"{name}'s rules: {exc.message}", at + ("rules",), hint=exc.hint or "") from None
    if not rules.is_file():
        raise fail("rule file not found", at + ("rules",),
                   hint=f"{name}: name a rule file (relative to the fleet file's folder) or a rule set")
    return rules.resolve()


def _memory(value: object, key: KeyPath, fail) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not MEMORY.match(value.strip()):
        raise fail("expected a memory size such as 1GB or 512MB", key, hint="DuckDB's memory limit for the run")
    return value.strip()


def _threads(value: object, key: KeyPath, fail) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise fail("expected a whole number of threads from 1 to 256", key, hint="DuckDB threads for the run")
    return value


def _check_distinct(entries: list[Municipality], fail) -> None:
    """Names unique; output folders neither the same nor nested; no key shared (file or content)."""
    names: dict[str, int] = {}
    keys: dict[object, int] = {}
    for i, m in enumerate(entries):
        at: KeyPath = ("municipalities", i)
        first = names.setdefault(m.name.casefold(), i)
        if first != i:
            raise fail(f"the name '{m.name}' is used twice (first by municipalities[{first}])", at + ("name",),
                       hint="give every municipality its own name")
        for j, other in enumerate(entries[:i]):
            if m.out == other.out or m.out in other.out.parents or other.out in m.out.parents:
                how = "the same output folder as" if m.out == other.out else "an output folder nested with that of"
                raise fail(f"{m.name} has {how} {other.name} (municipalities[{j}])", at + ("out",),
                           hint="each municipality needs its own output folder: it holds its warehouse and case data")
        content = hashlib.sha256(m.pseudonym_key_file.read_bytes().strip()).digest()
        for token in (m.pseudonym_key_file, content):
            first = keys.setdefault(token, i)
            if first != i:
                same = "file" if isinstance(token, Path) else "key (in another file)"
                raise fail(f"{m.name} shares its pseudonym {same} with {entries[first].name} "
                           f"(municipalities[{first}])", at + ("pseudonym_key_file",),
                           hint="each municipality needs its own key, or their analysts could link each other's people")
