-- reg_notices: one row per notice per caseworker per citizen per rule, for the departments'
-- caseworkers: a new or updated flag (with the other departments' caseworker and team), a
-- flag that ended (and why), and a case in another department that closed since the last run.
-- Inputs: flag_status, reg_flag_opens, active_cases, residents, persons, reg.flags (before),
-- reg.last_active_cases (the last committed run's active cases).
create or replace temp table reg_notices as
with caseworkers_today as (
    select distinct department, coalesce(team, 'unknown') as team,
        coalesce(caseworker, 'unknown') as caseworker, cpr
    from active_cases
),

caseworkers_before as (
    select distinct department, coalesce(team, 'unknown') as team,
        coalesce(caseworker, 'unknown') as caseworker, cpr
    from reg.last_active_cases
),

contacts as (
    -- caseworkers and teams per department, for the citizens of new and updated flags only
    select cpr, department,
        department || ': ' || tg_join_sorted(list(coalesce(caseworker, 'unknown') || ' ('
            || coalesce(team, 'unknown') || ')'), ', ') as contact
    from active_cases
    semi join (select cpr from flag_status where change in ('new', 'updated')) as f using (cpr)
    group by cpr, department
),

others as (
    -- per citizen and department: the other departments' contacts, in department order (a
    -- contact starts with its department)
    select d.cpr, d.department, tg_join_sorted(list(c.contact), '; ') as contacts
    from contacts as d
    join contacts as c on c.cpr = d.cpr and c.department <> d.department
    group by d.cpr, d.department
),

flag_notices as (
    select w.department, w.team, w.caseworker, s.cpr, s.rule_id, s.flag_id,
        if(s.change = 'new', 'new flag', 'flag updated') as notice,
        concat_ws(' | ', if(s.change = 'updated', o.change, null), x.contacts) as detail
    from flag_status as s
    join caseworkers_today as w on w.cpr = s.cpr and list_contains(s.notify_departments, w.department)
    left join reg_flag_opens as o using (flag_id)
    left join others as x on x.cpr = s.cpr and x.department = w.department
    where s.change in ('new', 'updated')
),

ended_notices as (
    select distinct w.department, w.team, w.caseworker, s.cpr, s.rule_id, s.flag_id,
        'flag ended' as notice, s.end_reason as detail
    from flag_status as s
    join (select * from caseworkers_today union select * from caseworkers_before) as w
        on w.cpr = s.cpr and list_contains(s.notify_departments, w.department)
    where s.change = 'ended'
),

in_course as (
    select m.cpr, string_agg(distinct f.rule_id, ', ' order by f.rule_id) as rule_id,
        string_agg(distinct f.flag_id, ', ' order by f.flag_id) as flag_id
    from reg.flags as f
    cross join unnest(f.members) as m(cpr)
    where f.status = 'open'
    group by m.cpr
),

closed_cases as (
    select l.cpr, l.department, l.caseworker, l.team
    from reg.last_active_cases as l
    anti join active_cases as a on a.source = l.source and a.case_id = l.case_id and a.cpr = l.cpr
),

closed_notices as (
    select distinct w.department, w.team, w.caseworker, k.cpr, i.rule_id, i.flag_id,
        'case closed in another department' as notice,
        k.department || ' case closed (caseworker ' || coalesce(k.caseworker, 'unknown') || ', team '
            || coalesce(k.team, 'unknown') || ')' as detail
    from closed_cases as k
    join in_course as i using (cpr)
    join caseworkers_today as w on w.cpr = k.cpr and w.department <> k.department
),

all_notices as (
    select * from flag_notices
    union all select * from ended_notices
    union all select * from closed_notices
),

final as (
    select
        n.department, n.team, n.caseworker, n.notice,
        left(n.cpr, 6) || '-' || right(n.cpr, 4) as cpr,
        p.name, n.rule_id, n.flag_id, n.detail
    from all_notices as n
    left join persons as p using (cpr)
)

select * from final
order by department, team, caseworker, notice, cpr, rule_id, flag_id, detail;
