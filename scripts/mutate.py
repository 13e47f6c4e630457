"""Mutation check: small deliberate changes to the SQL and the guards; does the test suite notice?

    python scripts/mutate.py               # every mutation (about 20 minutes on 2 shared cores)
    python scripts/mutate.py --list        # what would be mutated
    python scripts/mutate.py --only volume-threshold-fixed --only active-end-exclusive

Each mutation replaces one exact piece of text (a comparison flipped, a condition dropped, a
number fixed) in a copy of the repository, runs the tests that should notice it there, and
records whether they failed ("caught") or passed ("MISSED"). The working tree is never changed.
A mutation whose text is no longer in the code is reported as "stale" (the code moved on: update
the mutation). Before the mutations, the same tests run once on the unchanged copy: they must
pass, or nothing the mutations show would mean anything.

Prints a table and exits 1 unless every mutation is caught.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("src", "tests", "flows", "docs", ".ci", "pyproject.toml", "README.md")   # rule sets and sample are in src/
DRIFT = "tests/register/test_drift.py"


@dataclass(frozen=True)
class Mutation:
    """One deliberate change: `edits` are (file, exact old text, new text); `tests` the pytest ids to run."""

    name: str
    what: str
    edits: tuple[tuple[str, str, str], ...]
    tests: tuple[str, ...]


MUTATIONS = (
    # the volume guard (issue 13 §6: the first three went unnoticed before)
    Mutation("volume-threshold-fixed", "volume guard compares with a fixed 50 % instead of the configured threshold",
             (("src/targetgroup/validate/volume.py", "now < before * (1 - threshold)", "now < before * (1 - 0.5)"),),
             ("tests/validate/test_volume.py",)),
    Mutation("volume-active-half-dropped", "volume guard: the 'active cases dropped' half removed",
             (("src/targetgroup/validate/volume.py",
               ', ("active cases", v.active_cases, v.last_active_cases)):', "):"),),
             ("tests/validate/test_volume.py",)),
    Mutation("volume-rows-half-dropped", "volume guard: the 'rows dropped' half removed",
             (("src/targetgroup/validate/volume.py", '(("rows", v.rows, v.last_rows), ', "("),),
             ("tests/validate/test_volume.py",)),
    Mutation("active-end-exclusive", "active on D: end date >= D flipped to > D (the one definition)",
             (("src/targetgroup/sql/macros.sql", "(end_date is null or end_date >= d)",
               "(end_date is null or end_date > d)"),),
             ("tests/validate/test_volume.py", "tests/test_active.py")),
    Mutation("active-start-exclusive", "active on D: start date <= D flipped to < D",
             (("src/targetgroup/sql/macros.sql", "active and start_date <= d and", "active and start_date < d and"),),
             ("tests/validate/test_volume.py", "tests/test_active.py")),
    # the rules
    Mutation("family-minor-dropped", "family rule: the child's minor check removed",
             (("src/targetgroup/sql/rules/family.sql", "from residents where minor and mother_cpr is not null",
               "from residents where mother_cpr is not null"),
              ("src/targetgroup/sql/rules/family.sql", "from residents where minor and father_cpr is not null",
               "from residents where father_cpr is not null")),
             ("tests/rules/test_family_minor.py",)),
    Mutation("minor-age-boundary", "minor: under 18 flipped to 18 or under (turning 18 on D still a minor)",
             (("src/targetgroup/sql/active.sql", "tg_age(birth_date, $as_of) < 18 as minor",
               "tg_age(birth_date, $as_of) <= 18 as minor"),),
             ("tests/rules/test_family_minor.py",)),
    Mutation("departments-at-least-flipped", "departments condition: at least k flipped to more than k",
             (("src/targetgroup/sql/rules/departments.sql", "where len(departments) >= {at_least}",
               "where len(departments) > {at_least}"),),
             ("tests/rules/test_conditions.py", "tests/test_pipeline.py::test_overlap_on_hand_written_data")),
    Mutation("persistence-counts-runs", "persistence counts runs again, not distinct as-of dates",
             (("src/targetgroup/sql/rules/persistence.sql",
               "    qualify row_number() over (partition by as_of order by started_at desc) = 1\n", ""),),
             (f"{DRIFT}::test_persistence_counts_as_of_dates_not_reruns",)),
    # the register
    Mutation("reconcile-no-reend", "reconciliation: a marking the register ended but the system holds is not ended again",
             (("src/targetgroup/sql/register/markings.sql", "    from reg_stale_held\n    where known\n",
               "    from reg_stale_held\n    where false\n"),),
             (f"{DRIFT}::test_a_marking_the_register_ended_but_the_system_holds_is_ended_again",)),
    Mutation("actions-against-rewound-register", "a rebuild's actions computed against the rewound register",
             (("src/targetgroup/sql/register/markings.sql", "where d.basis = 'delivered' and d.change <> 'none'",
               "where d.basis = 'register' and d.change <> 'none'"),),
             (f"{DRIFT}::test_a_rebuild_keeps_flag_ids_and_issues_only_the_actions_needed",)),
    Mutation("rebuild-renumbers-flags", "a rebuilt flag no longer takes back its withdrawn id",
             (("src/targetgroup/sql/register/compare.sql", "where version = 1 and valid_from = $as_of",
               "where version = 1 and valid_from > $as_of"),),
             (f"{DRIFT}::test_a_rebuild_keeps_flag_ids_and_issues_only_the_actions_needed",)),
    Mutation("rule-switch-flipped", "rule-set switch guard: 'differs' flipped to 'equals'",
             (("src/targetgroup/register/compare.py", "tuple(rules) != before.last_rules",
               "tuple(rules) == before.last_rules"),),
             (f"{DRIFT}::test_a_rule_set_switch_stops_unless_accepted",)),
    Mutation("rule-switch-reason-dropped", "flags ended by a rule-set switch get the old reasons",
             (("src/targetgroup/sql/register/compare.sql", "when $rules_switched then 'rule set changed'",
               "when false then 'rule set changed'"),),
             (f"{DRIFT}::test_a_rule_set_switch_stops_unless_accepted",)),
    Mutation("removal-expiry-late", "a removal expires the day after its until date instead of on it",
             (("src/targetgroup/sql/register/compare.sql", "when l.until is not null and l.until <= $as_of then 'expired'",
               "when l.until is not null and l.until < $as_of then 'expired'"),),
             ("tests/register/test_nights.py",)),
    Mutation("explain-ignores-removal", "explain says FLAGGED for a flag a removal ended",
             (("src/targetgroup/rules/explain.py", "where rule_id = ? and cpr = ? and change <> 'ended'\",",
               "where rule_id = ? and cpr = ?\","),),
             (f"{DRIFT}::test_explain_shows_a_removal_and_does_not_say_flagged",)),
    Mutation("explain-flagged-from-targets", "explain says FLAGGED when the rules match, whatever the register does",
             (("src/targetgroup/rules/explain.py", "    if _has_register(con):\n        flagged = ",
               "    if False:\n        flagged = "),),
             (f"{DRIFT}::test_explain_shows_a_removal_and_does_not_say_flagged",)),
    Mutation("dry-run-needs-rebuild", "a dry run for an earlier date does not rewind its copy of the register",
             (("src/targetgroup/pipeline.py", "rebuild=settings.rebuild or settings.dry_run,",
               "rebuild=settings.rebuild,"),),
             (f"{DRIFT}::test_a_dry_run_for_an_earlier_date_needs_no_rebuild_and_changes_nothing",)),
)


def _copy(dest: Path) -> None:
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, dest / name)


def _pytest(copy: Path, tests: tuple[str, ...]) -> tuple[bool, float]:
    """Run `tests` in `copy`; (passed, seconds). The copy's src/ comes first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy / "src"), str(copy)])}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return done.returncode == 0, time.perf_counter() - started


def _apply(copy: Path, mutation: Mutation) -> dict[Path, str] | None:
    """Apply the edits; returns the original texts, or None (nothing changed) if one is stale."""
    originals: dict[Path, str] = {}
    for rel, old, new in mutation.edits:
        path = copy / rel
        text = path.read_text(encoding="utf-8")   # with this mutation's earlier edits, if any
        if text.count(old) != 1:
            for p, t in originals.items():
                p.write_text(t, encoding="utf-8")
            return None
        originals.setdefault(path, text)
        path.write_text(text.replace(old, new), encoding="utf-8")
    return originals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this mutation")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    if args.list or not chosen:
        for m in MUTATIONS:
            print(f"{m.name:<34} {m.what}")
        return 0 if args.list else 2
    with tempfile.TemporaryDirectory(prefix="targetgroup-mutate-") as tmp:
        copy = Path(tmp)
        _copy(copy)
        baseline = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        ok, seconds = _pytest(copy, baseline)
        print(f"baseline: {len(baseline)} test selection(s) {'pass' if ok else 'FAIL'} ({seconds:.0f} s)", flush=True)
        if not ok:
            print("the tests fail without any mutation: fix them first", file=sys.stderr)
            return 1
        results = []
        for m in chosen:
            originals = _apply(copy, m)
            if originals is None:
                results.append((m, "stale", 0.0))
            else:
                try:
                    passed, seconds = _pytest(copy, m.tests)
                finally:
                    for path, text in originals.items():
                        path.write_text(text, encoding="utf-8")
                results.append((m, "MISSED" if passed else "caught", seconds))
            print(f"  {m.name}: {results[-1][1]}", flush=True)
    print()
    print("| mutation | what was changed | tests run | result | seconds |")
    print("|---|---|---|---|---|")
    for m, outcome, seconds in results:
        tests = ", ".join(t.replace("tests/", "") for t in m.tests)
        print(f"| `{m.name}` | {m.what} | {tests} | {outcome} | {seconds:.0f} |")
    caught = sum(1 for _, outcome, _ in results if outcome == "caught")
    print(f"\n{caught} of {len(results)} mutations caught")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
