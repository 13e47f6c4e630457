-- reg_notices: one row per notice per caseworker per citizen per rule, for the departments'
-- caseworkers: a new or updated flag (detail: the register's change text), a flag that ended
-- (detail: the end reason code), and a case in another department that closed since the last
-- run (closed_*). Codes only: deliver (sql/notice_rows.sql) words them in the run's language and
-- adds the contacts the disclosure policy allows.
-- Inputs: flag_status, reg_flag_opens, active_cases, residents, persons, reg.flags (before),
-- reg.last_active_cases (the last committed run's active cases).
create or replace temp table reg_notices as
with in_course as (
    select m.cpr, string_agg(distinct f.rule_id, ', ' order by f.rule_id) as rule_id,
        string_agg(distinct f.flag_id, ', ' order by f.flag_id) as flag_id
    from reg.flags as f
    cross join unnest(f.members) as m(cpr)
    where f.status = 'open'
    group by m.cpr
),

notified as (
    -- the only citizens a notice can be about: flagged or ended tonight, or in a course before
    -- it (so the case lists below are not the whole municipality's)
    select cpr from flag_status
    union
    select cpr from in_course
),

caseworkers_today as (
    select distinct department, team, caseworker, cpr
    from active_cases
    semi join notified using (cpr)
),

caseworkers_before as (
    select distinct department, team, caseworker, cpr
    from reg.last_active_cases
    semi join (select cpr from flag_status where change = 'ended') as e using (cpr)
),

flag_notices as (
    select w.department, w.team, w.caseworker, s.cpr, s.rule_id, s.flag_id,
        s.change as notice,
        if(s.change = 'updated', o.change, null) as detail,
        null::varchar as closed_department, null::varchar as closed_caseworker, null::varchar as closed_team
    from flag_status as s
    join caseworkers_today as w on w.cpr = s.cpr and list_contains(s.notify_departments, w.department)
    left join reg_flag_opens as o using (flag_id)
    where s.change in ('new', 'updated')
),

ended_notices as (
    -- to the citizen's own caseworkers, today's or the last run's, in a notified department
    select distinct w.department, w.team, w.caseworker, s.cpr, s.rule_id, s.flag_id,
        'ended' as notice, s.end_reason as detail,
        null::varchar, null::varchar, null::varchar
    from flag_status as s
    join (select * from caseworkers_today union select * from caseworkers_before) as w
        on w.cpr = s.cpr and list_contains(s.notify_departments, w.department)
    where s.change = 'ended'
),

closed_cases as (
    select l.cpr, l.department, l.caseworker, l.team
    from reg.last_active_cases as l
    semi join in_course as i on i.cpr = l.cpr
    anti join active_cases as a on a.source = l.source and a.case_id = l.case_id and a.cpr = l.cpr
),

closed_notices as (
    select distinct w.department, w.team, w.caseworker, k.cpr, i.rule_id, i.flag_id,
        'case_closed' as notice, null as detail, k.department, k.caseworker, k.team
    from closed_cases as k
    join in_course as i using (cpr)
    join caseworkers_today as w on w.cpr = k.cpr and w.department <> k.department
),

final as (
    select * from flag_notices
    union all select * from ended_notices
    union all select * from closed_notices
)

select * from final
order by department, team, caseworker, notice, cpr, rule_id, flag_id, detail, closed_department;
