"""Target-group rules as data: rule files, their checks, their SQL, and explanations.

    model.py     typed models of a rule file (RuleSet, Rule, conditions, exclusions)
    load.py      load_rules / check_rules: parse with line numbers, check, content hash
    compile.py   conditions -> SQL from the templates in sql/rules/
    evaluate.py  run a rule set in the run's connection: condition_hits ... targets
    explain.py   the evidence for one citizen (terminal only)
    sets.py      rule sets by name: the shipped sets (rulesets/), a local rules/ folder, the resolver
"""

from targetgroup.rules.load import DEFAULT_RULES, LoadedRules, check_rules, load_rules
from targetgroup.rules.sets import list_rule_sets, resolve_rule_set

__all__ = ["DEFAULT_RULES", "LoadedRules", "check_rules", "list_rule_sets", "load_rules", "resolve_rule_set"]
