-- leadership_figures: one row per published figure of the current run (counts only; rounding and
-- the disclosure audit come afterwards in deliver.figures, never here). figure in
--   combo (citizens by the set of departments with an active case), dept, rule,
--   duration (courses by duration bucket, grp2 = ongoing|ended), team (ongoing courses by the
--   coordinator's team), coord (coordinators by number of ongoing courses), courses (totals).
create or replace temp table leadership_figures as
with flagged as (
    select distinct cpr from targets
),

citizen_departments as (
    select a.cpr, list(distinct a.department order by a.department) as departments
    from active_cases as a
    semi join flagged using (cpr)
    group by a.cpr
),

combo as (
    select 'combo' as figure, array_to_string(departments, '+') as grp, null::varchar as grp2, count(*) as n
    from citizen_departments
    group by all
),

dept as (
    select 'dept' as figure, d.department as grp, null::varchar as grp2, count(*) as n
    from citizen_departments, unnest(departments) as d(department)
    group by all
),

rule as (
    select 'rule' as figure, rule_id as grp, null::varchar as grp2, count(distinct cpr) as n
    from targets
    group by all
),

duration as (
    select 'duration' as figure, duration_bucket as grp, case when ongoing then 'ongoing' else 'ended' end as grp2,
        count(*) as n
    from courses
    group by all
),

course_totals as (
    select 'courses' as figure, case when ongoing then 'ongoing' else 'ended' end as grp, null::varchar as grp2,
        count(*) as n
    from courses
    group by all
),

team as (
    -- a team name is text from an extract: anything CPR-shaped in it is masked (tg_scrub)
    select 'team' as figure, coalesce(tg_scrub(team), '') as grp, null::varchar as grp2, count(*) as n
    from courses
    where ongoing
    group by all
),

per_coordinator as (
    select coordinator, count(*) as courses
    from courses
    where ongoing and coordinator is not null
    group by coordinator
),

coord as (
    select 'coord' as figure,
        case when courses = 1 then 'coord_1' when courses = 2 then 'coord_2'
             when courses <= 4 then 'coord_3_4' else 'coord_5p' end as grp,
        null::varchar as grp2, count(*) as n
    from per_coordinator
    group by all
),

coord_source as (
    -- ongoing courses by where their coordinator comes from: recorded, guessed or none found
    select 'coord_source' as figure, coalesce(coordinator_source, 'none') as grp, null::varchar as grp2,
        count(*) as n
    from courses
    where ongoing
    group by all
),

final as (
    select figure, grp, grp2, n from combo
    union all select figure, grp, grp2, n from dept
    union all select figure, grp, grp2, n from rule
    union all select figure, grp, grp2, n from duration
    union all select figure, grp, grp2, n from course_totals
    union all select figure, grp, grp2, n from team
    union all select figure, grp, grp2, n from coord
    union all select figure, grp, grp2, n from coord_source
)

select figure, grp, grp2, n from final;
