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
        string_agg(distinct caseworker, '; ' order by caseworker) as caseworker,
        string_agg(distinct team, '; ' order by team) as team
    from active_cases
    group by cpr, department
),

contacts as (
    select cpr, department,
        department || ': ' || coalesce(caseworker, 'ukendt') || ' (' || coalesce(team, 'ukendt') || ')' as contact
    from served
),

final as (
    select
        s.department,
        s.team as own_team,
        s.caseworker as own_caseworker,
        left(f.cpr, 6) || '-' || right(f.cpr, 4) as cpr,
        r.name,
        r.age,
        f.rule_id,
        f.family_id,
        (select string_agg(c.department, ', ' order by c.department)
           from contacts as c where c.cpr = f.cpr and c.department <> s.department) as other_departments,
        (select string_agg(c.contact, '; ' order by c.department)
           from contacts as c where c.cpr = f.cpr and c.department <> s.department) as other_contacts,
        array_to_string(f.reason_codes, ' ') as reason_codes,
        f.rules_hash
    from flagged as f
    join served as s using (cpr)
    join residents as r using (cpr)
)

select * from final
order by department, own_team, own_caseworker, cpr, rule_id;
