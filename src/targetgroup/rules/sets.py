"""Rule sets by name or by path: the sets shipped in the package and a local `rules/` folder.

    resolve_rule_set(value, cwd=None) -> Path          the one resolver every caller uses (CLI run,
                                                       validate, explain, rules check; Prefect flows)
    list_rule_sets(cwd=None) -> list[RuleSetEntry]     shipped and local sets, for `rules list`

A value that is an existing path is that file. Otherwise it is a name (`odense`, `odense.yaml`),
looked up first in `rules/` of the current folder (a municipality's own sets), then among the
shipped sets (`targetgroup/rulesets/`, found with importlib.resources). A value that is neither
is a RulesError listing every set that exists, raised before anything is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from targetgroup.errors import ConfigError, RulesError
from targetgroup.yamlsource import load_yaml

SHIPPED_RULE_SETS = Path(str(resources.files("targetgroup").joinpath("rulesets")))
LOCAL_FOLDER = "rules"          # a municipality's own rule sets, in the folder the command runs in
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class RuleSetEntry:
    """One rule set file: its name (file stem), where it lives, and what it says about itself."""

    name: str
    origin: str                  # 'local' or 'shipped'
    file: Path
    title: str                   # the set's `name:` and `description:`, or why they could not be read
    shadowed: bool = False       # a local set of the same name wins


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def list_rule_sets(cwd: Path | None = None) -> list[RuleSetEntry]:
    """The local sets (./rules/*.yaml), then the shipped ones; a shipped set a local one of the
    same name hides is marked `shadowed`."""
    local = _files((cwd or Path.cwd()) / LOCAL_FOLDER)
    local_names = {p.stem for p in local}
    entries = [RuleSetEntry(p.stem, "local", p, _title(p)) for p in local]
    entries += [RuleSetEntry(p.stem, "shipped", p, _title(p), shadowed=p.stem in local_names)
                for p in _files(SHIPPED_RULE_SETS)]
    return entries


def _title(path: Path) -> str:
    """'name: description' from the file's top-level keys (not a full check: `rules check` does that)."""
    try:
        data, _ = load_yaml(path)
    except ConfigError as exc:
        return f"(cannot be read: {exc.message})"
    if not isinstance(data, dict):
        return "(not a rule set: no top-level mapping)"
    name, description = str(data.get("name") or ""), str(data.get("description") or "")
    return ": ".join(part for part in (name, description) if part)


def resolve_rule_set(value: str | Path, cwd: Path | None = None) -> Path:
    """The rule file `value` means: an existing path, else a local or shipped set of that name.

    Raises RulesError (with the sets that exist) when it is neither; reads no extract.
    """
    path = Path(value)
    if path.is_file():
        return path
    if path.exists():
        raise RulesError("is a folder, not a rule file", file=path,
                         hint=f"name a .yaml file or a rule set; {_known(cwd)}")
    name = str(value)
    stem = name[: -len(suffix)] if (suffix := next((s for s in SUFFIXES if name.endswith(s)), "")) else name
    if "/" not in name and "\\" not in name and stem:
        for folder in ((cwd or Path.cwd()) / LOCAL_FOLDER, SHIPPED_RULE_SETS):
            for candidate_suffix in SUFFIXES:
                candidate = folder / f"{stem}{candidate_suffix}"
                if candidate.is_file():
                    return candidate
    raise RulesError(f"no rule set '{name}': it is not a file, and no local or shipped rule set has that name",
                     hint=_known(cwd))


def _known(cwd: Path | None) -> str:
    names = []
    for entry in list_rule_sets(cwd):
        if not entry.shadowed:
            names.append(f"{entry.name} ({entry.origin})")
    return (f"rule sets: {', '.join(names)}; `targetgroup rules list` shows them with their files"
            if names else "no rule sets found; pass the path of a rule file")
