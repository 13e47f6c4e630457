"""Read and check a rule file: every problem with its file, line, field and a hint.

    load_rules(path, config)  -> LoadedRules (model, content hash, line map) or RulesError
    check_rules(path, config) -> list[RulesError] (empty when the file is fine)
    resolve_rules(value, cwd) -> the rule file `--rules VALUE` means (DEFAULT_RULES when None)

The content hash is the sha256 of the canonical form of the file's data (JSON with sorted
keys), so comments and layout do not change it; any change of meaning does.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, TypeAdapter, ValidationError

from targetgroup.config import FileCode, PathText, SourcesConfig
from targetgroup.errors import ConfigError, RulesError
from targetgroup.rules import model as m
from targetgroup.rules.sets import SHIPPED_RULE_SETS
from targetgroup.limits import MAX_LIST_BYTES, shown
from targetgroup.yamlsource import KeyPath, dotted, line_of, load_yaml

DEFAULT_RULES = SHIPPED_RULE_SETS / "default.yaml"
MANUAL_COLUMNS = ("cpr", "rule", "reason", "added_by")
CONDITION: TypeAdapter = TypeAdapter(m.Condition)
RULE_ID: TypeAdapter = TypeAdapter(Annotated[str, m.Rule.model_fields["id"]])
CODE: TypeAdapter = TypeAdapter(FileCode)
PATH: TypeAdapter = TypeAdapter(PathText)


@dataclass
class LoadedRules:
    """A checked rule set, where it came from, and its content hash."""

    rules: m.RuleSet
    file: Path
    hash: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def list_path(self, which: str) -> Path | None:
        """The manual exclusion/inclusion list, relative to the rule file's folder."""
        value = getattr(self.rules, f"manual_{which}")
        return (self.file.parent / value) if value else None


def resolve_rules(value: str | Path | None, cwd: Path | None = None) -> Path:
    """The rule file that `targetgroup run --rules VALUE` uses: DEFAULT_RULES when no value is
    given, else what `rules.sets.resolve_rule_set` finds (an existing file, or a local or shipped
    rule set of that name; local sets are looked for in `cwd`'s rules/ folder, default the current
    folder). Raises RulesError listing the sets that exist when there is none."""
    from targetgroup.rules.sets import resolve_rule_set  # noqa: PLC0415 - rules.sets is a sibling

    if value is None or str(value) == "":
        return DEFAULT_RULES
    return resolve_rule_set(value, cwd)


def content_hash(data: object) -> str:
    """sha256 of the canonical JSON form of the parsed rule file."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_rules(path: Path | str, config: SourcesConfig | None = None) -> LoadedRules:
    """Parse and check `path` (against the sources configuration, when given)."""
    path = Path(path)
    problems, loaded = _check(path, config)
    if problems:
        raise combined(path, problems)
    return loaded


def check_rules(path: Path | str, config: SourcesConfig | None = None) -> list[RulesError]:
    """Every problem in the rule file `path`; empty when it is fine."""
    return _check(Path(path), config)[0]


def combined(path: Path, problems: list[RulesError]) -> RulesError:
    """One error that carries (and prints) all problems."""
    text = "\n".join(str(p) for p in problems)
    noun = "problem" if len(problems) == 1 else "problems"
    return RulesError(f"{len(problems)} {noun} in the rule file\n{text}", file=path, problems=problems,
                      hint=f"fix them and run `targetgroup rules check {path}` again")


def _check(path: Path, config: SourcesConfig | None) -> tuple[list[RulesError], LoadedRules | None]:
    try:
        data, lines = load_yaml(path)
    except ConfigError as exc:
        return [RulesError(exc.message, file=path, line=exc.line, hint=exc.hint)], None
    if not isinstance(data, dict):
        return [RulesError("expected a mapping with name, description and rules", file=path, line=1,
                           hint=f"see {DEFAULT_RULES} for a complete example")], None
    try:
        ruleset = m.RuleSet(**data)
    except ValidationError as exc:
        problems = [_from_pydantic(path, lines, data, err) for err in _dedupe(exc.errors())]
        # A misspelt key also makes its correct spelling 'missing': report the typo only.
        suggested = {(p.field.rsplit(".", 1)[0], p.hint.split("'")[1]) for p in problems
                     if p.hint and p.hint.startswith("did you mean") and "unknown key" in p.message}
        problems = [p for p in problems if not (p.message == "required key is missing" and "." in (p.field or "")
                                                and tuple(p.field.rsplit(".", 1)) in suggested)]
        # one pass: the parts that do parse are checked against the sources as well
        return problems + _semantic(path, lines, _raw_parts(data), config), None
    loaded = LoadedRules(ruleset, path, content_hash(data), lines)
    return _semantic(path, lines, _model_parts(ruleset), config), loaded


@dataclass
class _Parts:
    """What the semantic checks read: per rule its index, id, (role, index, condition) list and
    notify list; and the manual lists named at the top."""

    rules: list[tuple[int, object, list[tuple[str, int, object]], list[object]]]
    lists: dict[str, object]


def _model_parts(rs: m.RuleSet) -> _Parts:
    return _Parts([(i, r.id, r.all_conditions(), list(r.notify or [])) for i, r in enumerate(rs.rules)],
                  {which: getattr(rs, f"manual_{which}") for which in ("exclusions", "inclusions")})


def _raw_parts(data: dict) -> _Parts:
    """The parts of a file that failed the structural check which parse on their own: each
    condition that is valid by itself, notify codes, rule ids and list paths that are text."""
    rules = []
    for i, raw in enumerate(data.get("rules") if isinstance(data.get("rules"), list) else []):
        if not isinstance(raw, dict):
            continue
        family = raw.get("family") if isinstance(raw.get("family"), dict) else {}
        conditions = []
        for role, items in (("subject", raw.get("conditions")), ("child", family.get("child")),
                            ("parent", family.get("parent"))):
            for j, item in enumerate(items if isinstance(items, list) else []):
                try:
                    conditions.append((role, j, CONDITION.validate_python(item)))
                except ValidationError:
                    pass   # reported by the structural check
        notify = raw.get("notify") if isinstance(raw.get("notify"), list) else []
        # only values that pass their own checks: a refused value must never be echoed
        rules.append((i, _valid(RULE_ID, raw.get("id")), conditions,
                      [n for n in notify if _valid(CODE, n) is not None]))
    lists = {which: _valid(PATH, data.get(f"manual_{which}")) for which in ("exclusions", "inclusions")}
    return _Parts(rules, lists)


def _valid(adapter: TypeAdapter, value: object) -> object:
    """`value` when it passes `adapter`'s checks (text only), else None."""
    if not isinstance(value, str):
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _dedupe(errors: list[dict]) -> list[dict]:
    # A wrong `kind` makes pydantic report one error per union member: keep one per location.
    seen, out = set(), []
    for err in errors:
        loc = tuple(err["loc"])
        if loc not in seen:
            seen.add(loc)
            out.append(err)
    return out


def _key_path(loc: tuple) -> KeyPath:
    # Drop the union tags pydantic adds to locations (e.g. 'departments', 'function-after[...]').
    return tuple(p for p in loc if isinstance(p, int) or (p not in m.CONDITION_KINDS and "[" not in str(p)))


def _from_pydantic(path: Path, lines: dict[KeyPath, int], data: dict, err: dict) -> RulesError:
    key_path = _key_path(tuple(err["loc"]))
    field_name = dotted(key_path) or None
    msg = err["msg"].removeprefix("Value error, ")
    hint = "see docs/rules.md for the keys each part of a rule file takes"
    if err["type"] == "extra_forbidden":
        wrong = str(key_path[-1])
        known = _known_keys(data, key_path[:-1])
        close = difflib.get_close_matches(wrong, known, n=1, cutoff=0.6)
        msg = f"unknown key '{wrong}'"
        hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known)}"
    elif err["type"] == "missing":
        msg = "required key is missing"
        hint = f"add '{key_path[-1]}' here"
    elif err["type"] == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        close = difflib.get_close_matches(str(tag), m.CONDITION_KINDS, n=1)
        msg = f"unknown condition kind '{tag}'"
        field_name = dotted(key_path + ("kind",))
        key_path = key_path + ("kind",)
        hint = (f"did you mean '{close[0]}'? " if close else "") + f"kinds: {', '.join(m.CONDITION_KINDS)}"
    elif err["type"] == "union_tag_not_found":
        msg = "a condition needs a kind"
        hint = f"add kind: one of {', '.join(m.CONDITION_KINDS)}"
    elif err["type"] in ("string_pattern_mismatch", "string_too_long"):
        msg = f"'{shown(err['input'])}' is not a valid id"
        hint = "use lower-case letters, digits and _, starting with a letter"
    return RulesError(msg, file=path, line=line_of(lines, key_path), field=field_name, hint=hint)


KINDS: dict[str, type[BaseModel]] = {
    "departments": m.DepartmentsCondition, "case_type": m.CaseTypeCondition, "duration": m.DurationCondition,
    "age": m.AgeCondition, "age_transition": m.AgeTransitionCondition, "area": m.AreaCondition,
    "persistence": m.PersistenceCondition,
}


def _known_keys(data: dict, parent: KeyPath) -> list[str]:
    """The keys the model at `parent` accepts (for 'did you mean')."""
    shape = tuple("#" if isinstance(p, int) else p for p in parent)
    model: type[BaseModel] | None = {
        (): m.RuleSet, ("rules", "#"): m.Rule, ("rules", "#", "family"): m.Family,
        ("rules", "#", "exclusions"): m.Exclusions,
    }.get(shape)
    if model is None and shape in (("rules", "#", "conditions", "#"), ("rules", "#", "family", "child", "#"),
                                   ("rules", "#", "family", "parent", "#")):
        node: object = data
        for part in parent:
            node = node[part]
        model = KINDS.get(node.get("kind")) if isinstance(node, dict) else None
    return list(model.model_fields) if model else []


def _semantic(path: Path, lines: dict[KeyPath, int], parts: _Parts, config: SourcesConfig | None) -> list[RulesError]:
    """Checks that need the whole file or the sources: duplicate ids, departments, case types, lists."""
    problems: list[RulesError] = []

    def add(key: KeyPath, msg: str, hint: str) -> None:
        problems.append(RulesError(msg, file=path, line=line_of(lines, key), field=dotted(key), hint=hint))

    seen: dict[object, int] = {}
    for i, rule_id, conditions, notify in parts.rules:
        if rule_id is not None and rule_id in seen:
            add(("rules", i, "id"), f"rule id '{rule_id}' is used twice (first in rules[{seen[rule_id]}])",
                "give every rule its own id: flags and history are kept per rule id")
        seen.setdefault(rule_id, i)
        if config is not None:
            _check_vocabulary(conditions, notify, i, config, add)
        for role, j, cond in conditions:
            if role != "subject" and cond.kind == "persistence":
                add(_cond_key(i, role, j), "persistence belongs in the rule's conditions, not in family",
                    "move it to the rule's conditions: it then applies to every flagged member")
    for which in ("exclusions", "inclusions"):
        listed = path.parent / parts.lists[which] if parts.lists[which] else None
        if listed is not None and not listed.is_file():
            add((f"manual_{which}",), f"the manual {which[:-1]} list {listed} does not exist",
                f"create a CSV with the columns {', '.join(MANUAL_COLUMNS)} (paths are relative to the rule file)")
        elif listed is not None and listed.stat().st_size > MAX_LIST_BYTES:
            add((f"manual_{which}",), f"the manual {which[:-1]} list {listed} is larger than {MAX_LIST_BYTES:,} bytes",
                "a manual list names a few citizens; check that the right file is named")
    return problems


def _cond_key(i: int, role: str, j: int) -> KeyPath:
    return ("rules", i, "conditions", j) if role == "subject" else ("rules", i, "family", role, j)


def _check_vocabulary(conditions: list[tuple[str, int, object]], notify: list[object], i: int,
                      config: SourcesConfig, add) -> None:
    departments = list(config.departments)
    types: dict[str, set[str]] = {}
    for src in config.sources:
        types.setdefault(src.department, set()).update(src.case_types)

    def dept(key: KeyPath, name: str) -> None:
        if name not in departments:
            close = difflib.get_close_matches(name, departments, n=1)
            add(key, f"unknown department '{name}'",
                (f"did you mean '{close[0]}'? " if close else "") + f"departments in {config.file}: {', '.join(departments)}")

    def case_types(key: KeyPath, department: str, names: list[str]) -> None:
        known = sorted(types.get(department, set()))
        for k, name in enumerate(names):
            if department in departments and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                add(key + (k,), f"unknown case type '{name}' for {department}",
                    (f"did you mean '{close[0]}'? " if close else "") + f"case types of {department} in {config.file}: {', '.join(known) or 'none'}")

    for role, j, cond in conditions:
        key = _cond_key(i, role, j)
        if cond.kind == "departments":
            for field_name in ("of", "all_of"):
                for k, name in enumerate(getattr(cond, field_name) or []):
                    dept(key + (field_name, k), name)
            for name, listed in cond.case_types.items():
                dept(key + ("case_types", name), name)
                case_types(key + ("case_types", name), name, listed)
        elif cond.kind in ("case_type", "duration"):
            dept(key + ("department",), cond.department)
            case_types(key + ("case_types",), cond.department, cond.case_types)
        elif cond.kind == "area" and "area" not in config.persons.columns:
            add(key + ("kind",), "an area condition needs the person extract's area column",
                f"map it under persons: columns: area: <column> in {config.file}")
    for k, name in enumerate(notify):
        dept(("rules", i, "notify", k), name)
