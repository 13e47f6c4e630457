-- Condition `departments`: one row per resident citizen with active cases on $as_of in at least
-- {at_least} of the departments ({departments}); cases outside {case_filter} do not count.
with counted as (
    select
        cpr,
        list(distinct department order by department) as departments,
        list(source || ':' || case_id order by source, case_id) as case_keys
    from active_cases
    where department in ({departments})
      and ({case_filter})
    group by cpr
),

final as (
    select
        cpr,
        departments,
        case_keys,
        [{code}] || list_transform(departments, lambda d: 'ACTIVE_' || d) as reason_codes,
        'active in ' || array_to_string(departments, ', ') as evidence
    from counted
    where len(departments) >= {at_least}
)

select cpr, departments, case_keys, reason_codes, evidence from final
