-- Condition `persistence` of rule $rule_id: one row per citizen who matches the rule's other
-- conditions on this run and matched them on each of the $previous as-of dates before it.
-- Persistence counts distinct as-of dates, not runs: a rerun of a night does not make a citizen
-- persist longer; each date counts with its last committed run (rule_runs and rule_history
-- are read from the warehouse at the start of the run).
insert into condition_hits
with last_run_per_date as (
    select run_id, as_of
    from rule_runs
    qualify row_number() over (partition by as_of order by started_at desc) = 1
),

previous_runs as (
    select run_id
    from last_run_per_date
    order by as_of desc
    limit $previous
),

enough as (
    select count(*) = $previous as ok from previous_runs
),

held as (
    select h.cpr
    from rule_history as h
    semi join previous_runs as p using (run_id)
    where h.rule_id = $rule_id
    group by h.cpr
    having count(distinct h.run_id) = $previous
),

final as (
    select
        $rule_id::varchar as rule_id,
        'subject' as role,
        $cond_no as cond_no,
        'persistence' as kind,
        m.cpr,
        []::varchar[] as departments,
        []::varchar[] as case_keys,
        ['PERSISTENT_' || $runs::varchar || '_RUNS'] as reason_codes,
        'matched on this run and on the ' || $previous::varchar || ' as-of dates before it' as evidence
    from rule_matches as m
    semi join held as h using (cpr)
    cross join enough as e
    where m.rule_id = $rule_id and e.ok
)

select rule_id, role, cond_no, kind, cpr, departments, case_keys, reason_codes, evidence from final;
