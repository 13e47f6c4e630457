"""The flag register: who is flagged by which rule, since when, and why it ended (SCD type 2).

    compute(con, ...)  -> RegisterResult     the register stage (reads the warehouse, writes nothing)
    refuse_rule_switch(con, result, rules)   stops a run whose rule set is not the last run's
    switch_summary(con) -> counts            what such a run would end and start
    commit_steps(...)  -> [step, ...]        the warehouse writes, run inside the one commit

Work tables the stage leaves for the deliverables (grain):
- `flag_status`: one row per citizen per rule with a flag open after the run or ended by it
  (rule_id, subject_type, subject_id, cpr, family_id, change new|continuing|updated|ended,
  flag_id, version, flag_valid_from, version_valid_from, end_reason, departments,
  notify_departments).
- `reg_actions`: one row per create/update/end action per case system per citizen.
- `reg_reconcile`: one row per finding per system per citizen (imported marking lists only).
- `reg_notices`: one row per notice per caseworker (see sql/register/notices.sql).

Persistent tables: see sql/register/schema.sql and docs/register.md.
"""

from targetgroup.register.compare import RegisterResult, compute, refuse_rule_switch, switch_summary
from targetgroup.register.store import commit_steps

__all__ = ["RegisterResult", "commit_steps", "compute", "refuse_rule_switch", "switch_summary"]
