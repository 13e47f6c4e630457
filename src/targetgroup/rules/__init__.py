"""Target-group rules as data: rule files, their checks, their SQL, and explanations.

    model.py     typed models of a rule file (RuleSet, Rule, conditions, exclusions)
    load.py      load_rules / check_rules: parse with line numbers, check, content hash
    compile.py   conditions -> SQL from the templates in sql/rules/
    evaluate.py  run a rule set in the run's connection: condition_hits ... targets
    explain.py   the evidence for one citizen (terminal only)
"""

from targetgroup.rules.load import DEFAULT_RULES, LoadedRules, check_rules, load_rules

__all__ = ["DEFAULT_RULES", "LoadedRules", "check_rules", "load_rules"]
