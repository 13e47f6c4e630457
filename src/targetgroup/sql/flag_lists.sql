-- flag_list: one row per department per flagged citizen per rule, for the departments that
-- already serve the citizen (an active case in that department on the as-of date).
-- Other departments are named with their caseworker and team only, never with case details.
create or replace temp table flag_list as
with flagged as (
    select distinct cpr, rule_id, family_id, reason_codes, rules_hash
    from targets
),

served as (
    select cpr, department,
        tg_join_sorted(list(caseworker), '; ') as caseworker,
        tg_join_sorted(list(team), '; ') as team
    from active_cases
    semi join flagged using (cpr)
    group by cpr, department
),

contacts as (
    select cpr, department,
        department || ': ' || coalesce(caseworker, 'ukendt') || ' (' || coalesce(team, 'ukendt') || ')' as contact
    from served
),

others as (
    -- the other departments serving each flagged citizen, per serving department
    select s.cpr, s.department,
        tg_join_sorted(list(c.department), ', ') as other_departments,
        tg_join_sorted(list(c.contact), '; ') as other_contacts  -- a contact starts with its department
    from served as s
    join contacts as c on c.cpr = s.cpr and c.department <> s.department
    semi join flagged as f on f.cpr = s.cpr
    group by s.cpr, s.department
),

final as (
    select
        s.department,
        s.team as own_team,
        s.caseworker as own_caseworker,
        left(f.cpr, 6) || '-' || right(f.cpr, 4) as cpr,
        p.name,
        r.age,
        f.rule_id,
        f.family_id,
        o.other_departments,
        o.other_contacts,
        array_to_string(f.reason_codes, ' ') as reason_codes,
        f.rules_hash
    from flagged as f
    join served as s using (cpr)
    join residents as r using (cpr)
    join persons as p using (cpr)
    left join others as o on o.cpr = f.cpr and o.department = s.department
)

select * from final
order by department, own_team, own_caseworker, cpr, rule_id;
