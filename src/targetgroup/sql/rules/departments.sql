-- Condition `departments`: one row per resident citizen with active cases on $as_of in at least
-- $at_least of the departments $departments; in a department of $filter_departments only cases
-- of a type listed for it ($filter_pairs) count.
with counted as (
    select
        cpr,
        list(distinct department order by department) as departments,
        list(source || ':' || case_id order by source, case_id) as case_keys
    from active_cases
    where list_contains($departments::varchar[], department)
      and (not list_contains($filter_departments::varchar[], department)
           or list_contains($filter_pairs::struct(department varchar, case_type varchar)[],
                            {'department': department, 'case_type': case_type}))
    group by cpr
),

final as (
    select
        cpr,
        departments,
        case_keys,
        [$code::varchar] || list_transform(departments, lambda d: 'ACTIVE_' || d) as reason_codes,
        'active in ' || array_to_string(departments, ', ') as evidence
    from counted
    where len(departments) >= $at_least
)

select cpr, departments, case_keys, reason_codes, evidence from final
