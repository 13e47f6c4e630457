-- leadership_counts: one row per breakdown and group; counts of distinct flagged citizens.
-- Small cells are suppressed afterwards in Python (deliver.leadership), never here.
create or replace temp table leadership_counts as
with flagged as (
    select distinct cpr from targets
),

departments as (
    select a.cpr, list(distinct a.department order by a.department) as departments
    from active_cases as a
    semi join flagged as f using (cpr)
    group by a.cpr
),

by_combination as (
    select 'department_combination' as breakdown, array_to_string(departments, '+') as grp, count(*) as citizens
    from departments
    group by all
),

by_department as (
    select 'department' as breakdown, d.department as grp, count(*) as citizens
    from departments, unnest(departments) as d(department)
    group by all
),

by_rule as (
    select 'rule' as breakdown, rule_id as grp, count(distinct cpr) as citizens
    from targets
    group by all
),

total as (
    select 'total' as breakdown, 'all' as grp, count(*) as citizens from flagged
),

final as (
    select breakdown, grp, citizens from total
    union all select breakdown, grp, citizens from by_department
    union all select breakdown, grp, citizens from by_combination
    union all select breakdown, grp, citizens from by_rule
)

select breakdown, grp as "group", citizens from final
order by case breakdown when 'total' then 0 when 'department' then 1 when 'department_combination' then 2 else 3 end,
         citizens desc, "group";
