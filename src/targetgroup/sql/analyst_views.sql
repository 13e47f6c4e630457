-- Analyst views, created in the warehouse file itself (run on a connection opened directly on it,
-- so table names resolve to the warehouse's own tables). No CPR in any view: persons, families
-- and flags appear as keyed pseudonyms (table `pseudonyms`, HMAC-SHA256, see deliver.analyst).
-- Documented in docs/analysts.md.

-- v_runs: one row per committed run.
create or replace view v_runs as
select run_id, as_of, started_at, finished_at, status, rules_name, rules_hash,
    targets, citizens_flagged, flags_new, flags_continuing, flags_ended
from runs
where status = 'committed';

-- v_target_group_size: one row per committed run per rule.
create or replace view v_target_group_size as
with per_rule as (
    select run_id, rule_id, count(distinct cpr) as citizens, count(distinct subject_id) as subjects
    from targets
    group by run_id, rule_id
),

final as (
    select r.run_id, r.as_of, p.rule_id, p.citizens, p.subjects
    from per_rule as p
    join runs as r using (run_id)
    where r.status = 'committed'
)

select run_id, as_of, rule_id, citizens, subjects from final;

-- v_targets: one row per flagged citizen per rule per committed run, pseudonymised.
create or replace view v_targets as
with final as (
    select
        t.run_id, t.as_of, t.rule_id, t.subject_type,
        ps.pseudonym as person_pseudonym,
        pf.pseudonym as family_pseudonym,
        t.departments,
        len(t.case_keys) as cases,
        t.reason_codes
    from targets as t
    left join pseudonyms as ps on ps.value = t.cpr
    left join pseudonyms as pf on pf.value = t.family_id
)

select run_id, as_of, rule_id, subject_type, person_pseudonym, family_pseudonym, departments, cases, reason_codes
from final;
