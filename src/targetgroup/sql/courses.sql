-- courses: one row per coordinated course (flag) known after this run, ongoing or ended, with
-- its duration and, for ongoing courses, its coordinator and team.
-- Inputs: course_history (flag_id, rule_id, valid_from, valid_to as before this run),
-- flag_status (this run's changes), active_cases. Counts for the leadership report come from here.
--
-- Coordinator ("tovholder"): among the departments behind the flag, the one that has served the
-- citizen longest (earliest start date of an active case on $as_of; ties by department code, then
-- caseworker); the coordinator is that case's caseworker and the course's team is that case's team.
-- A coordinator recorded by a caseworker (coordinator_records, targetgroup.coordinators) wins over
-- that guess: the record in force on $as_of (latest `from` on or before it) for any member of the
-- course, for its rule or for every rule ('*'). coordinator_source says which: recorded | guessed.
create or replace temp table courses as
with changes as (
    select flag_id, any_value(rule_id) as rule_id, min(flag_valid_from) as valid_from,
        bool_and(change = 'ended') as ended
    from flag_status
    group by flag_id
),

merged as (
    select
        coalesce(h.flag_id, c.flag_id) as flag_id,
        coalesce(h.rule_id, c.rule_id) as rule_id,
        coalesce(h.valid_from, c.valid_from) as valid_from,
        case when c.ended then $as_of::date else h.valid_to end as valid_to
    from course_history as h
    full join changes as c using (flag_id)
),

candidates as (
    select f.flag_id, a.caseworker, a.team, a.department,
        row_number() over (partition by f.flag_id
                           order by a.start_date, a.department, a.caseworker nulls last, a.team) as pick
    from flag_status as f
    join active_cases as a on a.cpr = f.cpr and list_contains(f.departments, a.department)
    where f.change <> 'ended'
),

coordinator as (
    select flag_id, caseworker as coordinator, team, department as coordinator_department
    from candidates
    where pick = 1
),

recorded_candidates as (
    select f.flag_id, r.coordinator, r.team, r.recorded_in_department,
        row_number() over (partition by f.flag_id
                           order by r.from_date desc, r.coordinator_id desc) as pick
    from flag_status as f
    join coordinator_records as r on r.cpr = f.cpr and r.rule_id in (f.rule_id, '*') and r.from_date <= $as_of
    where f.change <> 'ended'
),

recorded as (
    select flag_id, coordinator, team, recorded_in_department as coordinator_department
    from recorded_candidates
    where pick = 1
),

final as (
    select
        m.flag_id, m.rule_id, m.valid_from, m.valid_to,
        m.valid_to is null as ongoing,
        coalesce(m.valid_to, $as_of::date) - m.valid_from as duration_days,
        case
            when coalesce(m.valid_to, $as_of::date) - m.valid_from < 91 then 'dur_lt3m'
            when coalesce(m.valid_to, $as_of::date) - m.valid_from < 182 then 'dur_3_6m'
            when coalesce(m.valid_to, $as_of::date) - m.valid_from < 365 then 'dur_6_12m'
            when coalesce(m.valid_to, $as_of::date) - m.valid_from < 730 then 'dur_1_2y'
            else 'dur_ge2y'
        end as duration_bucket,
        coalesce(r.coordinator, c.coordinator) as coordinator,
        case when r.flag_id is not null then r.team else c.team end as team,
        case when r.flag_id is not null then r.coordinator_department else c.coordinator_department end
            as coordinator_department,
        case when r.flag_id is not null then 'recorded' when c.coordinator is not null then 'guessed' end
            as coordinator_source
    from merged as m
    left join coordinator as c using (flag_id)
    left join recorded as r using (flag_id)
)

select * from final;
