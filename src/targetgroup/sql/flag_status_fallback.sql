-- Flag status without the flag register: today's `targets` compared with the committed runs'
-- targets (`hist_targets`, `hist_runs`, copied from the warehouse by deliver.status).
-- A flag is an unbroken series of committed runs in which a subject met a rule (an "island");
-- its valid_from is the as-of date of the island's first run.

-- flag_islands: one row per subject per rule per island of consecutive runs (incl. this run).
create or replace temp table flag_islands as
with runs as (
    select run_id, as_of, row_number() over (order by as_of, started_at, run_id) as seq
    from hist_runs
),

this_run as (
    select coalesce(max(seq), 0) + 1 as seq from runs
),

presence as (
    select distinct t.rule_id, t.subject_id, r.seq, r.run_id, r.as_of
    from hist_targets as t
    join runs as r using (run_id)
    union all
    select distinct rule_id, subject_id, (select seq from this_run), $run_id, $as_of::date
    from targets
),

numbered as (
    select *, seq - row_number() over (partition by rule_id, subject_id order by seq) as island
    from presence
),

spans as (
    select rule_id, subject_id, island,
        min(seq) as first_seq, max(seq) as last_seq,
        arg_min(run_id, seq) as first_run, min(as_of) as valid_from
    from numbered
    group by rule_id, subject_id, island
),

final as (
    select
        s.rule_id, s.subject_id, s.first_seq, s.last_seq, s.valid_from,
        -- the run after the island's last run closed it (null: still open before this run)
        (select r.as_of from runs as r where r.seq = s.last_seq + 1) as closed_on,
        s.first_run || '-' || dense_rank() over (partition by s.first_run order by s.rule_id, s.subject_id) as flag_id,
        (select seq from this_run) as this_seq
    from spans as s
)

select * from final;

-- flag_status: one row per citizen per rule flagged on $as_of or in the previous committed run.
create or replace temp table flag_status as
with previous as (
    select t.rule_id, t.subject_id, t.cpr, t.family_id, t.departments
    from hist_targets as t
    where t.run_id = (select run_id from hist_runs order by as_of desc, started_at desc, run_id desc limit 1)
),

current_flags as (
    select
        t.rule_id, t.subject_id, t.cpr, t.family_id,
        case
            when i.first_seq = i.this_seq then 'new'
            when p.departments is distinct from t.departments then 'updated'
            else 'continuing'
        end as change,
        i.flag_id, i.valid_from as flag_valid_from, null::varchar as end_reason, t.departments
    from targets as t
    join flag_islands as i on i.rule_id = t.rule_id and i.subject_id = t.subject_id and i.last_seq = i.this_seq
    left join previous as p on p.rule_id = t.rule_id and p.subject_id = t.subject_id and p.cpr = t.cpr
),

ended as (
    select p.*, i.flag_id, i.valid_from as flag_valid_from
    from previous as p
    join flag_islands as i on i.rule_id = p.rule_id and i.subject_id = p.subject_id and i.last_seq = i.this_seq - 1
),

lost_department as (
    -- the first department behind the ended flag where the citizen has no active case today
    select e.rule_id, e.subject_id, e.cpr, min(d.department) as department
    from ended as e, unnest(e.departments) as d(department)
    where not exists (select 1 from active_cases as a where a.cpr = e.cpr and a.department = d.department)
    group by all
),

ended_flags as (
    select
        e.rule_id, e.subject_id, e.cpr, e.family_id, 'ended' as change, e.flag_id, e.flag_valid_from,
        case
            when p.death_date <= $as_of then 'died'
            when p.moved_away_date <= $as_of then 'moved_away'
            when l.department is not null then 'CASE_CLOSED_' || l.department
            else 'no_longer_met'
        end as end_reason,
        e.departments
    from ended as e
    left join persons as p using (cpr)
    left join lost_department as l using (rule_id, subject_id, cpr)
),

final as (
    select rule_id, subject_id, cpr, family_id, change, flag_id, flag_valid_from, end_reason, departments
    from current_flags
    union all
    select rule_id, subject_id, cpr, family_id, change, flag_id, flag_valid_from, end_reason, departments
    from ended_flags
)

select * from final;

-- course_history: one row per flag as it stood after the previous committed run.
create or replace temp table course_history as
with final as (
    select flag_id, rule_id, subject_id, valid_from,
        case when last_seq >= this_seq - 1 then null else closed_on end as valid_to
    from flag_islands
    where first_seq < this_seq
)

select * from final;
