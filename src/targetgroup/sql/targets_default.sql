-- targets: one row per citizen in the target group on $as_of per rule.
-- The fixed default rule: active cases in at least two departments.
create or replace temp table targets as
with per_citizen as (
    select
        cpr,
        list(distinct department order by department) as departments,
        list(source || ':' || case_id order by source, case_id) as case_keys
    from active_cases
    group by cpr
),

final as (
    select
        'default.two_departments' as rule_id,
        'person' as subject_type,
        cpr as subject_id,
        cpr,
        null::varchar as family_id,
        departments,
        case_keys,
        ['DEPTS_GE_2'] || list_transform(departments, lambda d: 'ACTIVE_' || d) as reason_codes,
        departments as notify_departments
    from per_citizen
    where len(departments) >= 2
)

select * from final;
