-- Outcomes after a course ends (docs/outcomes.md). Parameters: $as_of, $run_id, $benefit and
-- $education (lists of case types from the sources file's `outcomes:` section).
-- Inputs: this run's flag_status, exclusions, residents, active_cases; from the warehouse
-- (deliver.outcomes.load): oc_index_hist, oc_followup_hist, oc_runs (committed runs).

-- oc_index_now: one row per citizen per course that ended tonight, and per citizen who entered
-- the comparison group tonight (a caseworker removed the flag, or the rule held them back or
-- excluded them for consent), with the index date (tonight's as-of date) the follow-up counts from.
create or replace temp table oc_index_now as
with ended as (
    -- one row per member per flag that ended tonight; a member still flagged under the same rule
    -- is not in flag_status as ended (compare.sql), so the course really ended for them
    select distinct flag_id, rule_id, cpr, coalesce(end_reason, '') as end_reason
    from flag_status
    where change = 'ended'
),

course_ends as (
    select 'ended' as cohort, 'course_ended' as kind, rule_id, flag_id, cpr
    from ended
    -- not an end of the course: a merge into another family flag, or another rule set
    where end_reason not like 'merged into%' and end_reason <> 'rule set changed'
      and end_reason <> 'removed by caseworker'
),

removed as (
    select 'comparison' as cohort, 'removed' as kind, rule_id, flag_id, cpr
    from ended
    where end_reason = 'removed by caseworker'
),

flagged as (
    select distinct cpr from flag_status where change <> 'ended'
),

no_consent as (
    -- met the rule, but held back or excluded for consent and flagged under no rule tonight;
    -- counted once per citizen per rule (the first time)
    select distinct 'comparison' as cohort, 'no_consent' as kind, e.rule_id, null::varchar as flag_id, e.cpr
    from exclusions as e
    where e.reason_code in ('AWAITING_CONSENT', 'CONSENT_REFUSED')
      and e.cpr not in (select cpr from flagged)
      and not exists (select 1 from oc_index_hist as h
                      where h.kind = 'no_consent' and h.rule_id = e.rule_id and h.cpr = e.cpr)
),

final as (
    select * from course_ends
    union all select * from removed
    union all select * from no_consent
)

select cohort, kind, rule_id, flag_id, cpr, $as_of::date as index_date, $run_id as run_id
from final;

-- oc_followup_now: one row per citizen still being followed (index date at most 12 months and
-- 31 days ago) as they are tonight: resident or not, flagged or not, the departments with an
-- active case, and whether one of those cases is a benefit / education or guidance.
create or replace temp table oc_followup_now as
with followed as (
    select distinct cpr
    from (select cpr, index_date from oc_index_hist union all select cpr, index_date from oc_index_now)
    where index_date >= $as_of::date - interval 12 months - interval 31 days
),

cases as (
    select
        cpr,
        count(distinct department) as departments,
        bool_or(list_contains($benefit, case_type)) as benefit,
        bool_or(list_contains($education, case_type)) as education
    from active_cases
    group by cpr
),

final as (
    select
        f.cpr,
        r.cpr is not null as resident,
        f.cpr in (select cpr from flag_status where change <> 'ended') as flagged,
        coalesce(c.departments, 0) as departments,
        coalesce(c.benefit, false) as benefit,
        coalesce(c.education, false) as education
    from followed as f
    left join residents as r using (cpr)
    left join cases as c using (cpr)
)

select $run_id as run_id, $as_of::date as as_of, cpr, resident, flagged, departments, benefit, education
from final;

-- oc_measures: one row per cohort (ended | comparison) per quarter of the index date per
-- measure per horizon (0 = the cohort itself): the number of citizen-course pairs. A horizon is
-- counted only for quarters whose last day plus the horizon is on or before $as_of, and each
-- pair is observed at the first run on or after index date + horizon, within 31 days.
create or replace temp table oc_measures as
with units as (
    select cohort, kind, rule_id, flag_id, cpr, index_date from oc_index_hist
    union all
    select cohort, kind, rule_id, flag_id, cpr, index_date from oc_index_now
),

runs as (
    select run_id, as_of from oc_runs
    union all
    select $run_id, $as_of::date
),

observations as (
    select * from oc_followup_hist
    union all
    select * from oc_followup_now
),

quarters as (
    select *,
        year(index_date) || 'Q' || quarter(index_date) as quarter,
        (date_trunc('quarter', index_date) + interval 3 months - interval 1 day)::date as quarter_end
    from units
),

horizons as (
    select q.*, h.months, (q.index_date + to_months(h.months))::date as due
    from quarters as q
    cross join (values (3), (6), (12)) as h(months)
    where (q.quarter_end + to_months(h.months))::date <= $as_of::date
),

observed as (
    -- the first run in the window [due, due + 31 days]
    select h.cohort, h.quarter, h.months, h.cpr, h.kind, h.rule_id, h.flag_id, h.index_date,
        arg_min(r.run_id, r.as_of) as run_id
    from horizons as h
    join runs as r on r.as_of between h.due and h.due + interval 31 days
    group by all
),

facts as (
    select o.cohort, o.quarter, o.months, f.resident, f.flagged, f.departments, f.benefit, f.education
    from observed as o
    join observations as f on f.run_id = o.run_id and f.cpr = o.cpr
),

counted as (
    select cohort, quarter, 0 as months, 'cohort' as measure, count(*) as n
    from quarters
    group by all
    union all
    select cohort, quarter, months, m.measure, count(*) filter (where m.hit) as n
    from facts
    cross join lateral (values
        ('followed', resident),
        ('back_in_group', resident and flagged),
        ('departments_0', resident and departments = 0),
        ('departments_1', resident and departments = 1),
        ('departments_2p', resident and departments >= 2),
        ('benefit', resident and benefit),
        ('education', resident and education)
    ) as m(measure, hit)
    group by all
),

final as (
    select cohort, quarter, months, measure, n
    from counted
)

select cohort, quarter, months, measure, n
from final
order by cohort, quarter, months, measure;
