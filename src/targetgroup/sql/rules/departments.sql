-- Condition `departments`: one row per resident citizen with active cases on $as_of in at least
-- $at_least of the departments $departments; in a department of $filter_departments only cases
-- of a type listed for it ($filter_pairs) count.
with eligible as (
    -- one row per active case this condition counts
    select cpr, department, source, case_id
    from active_cases
    where list_contains($departments::varchar[], department)
      and (not list_contains($filter_departments::varchar[], department)
           or list_contains($filter_pairs::struct(department varchar, case_type varchar)[],
                            {'department': department, 'case_type': case_type}))
),

qualifying as (
    -- one row per citizen whose cases are in enough departments: counted first, so that the
    -- lists below are built for these citizens only (most citizens with a case have one
    -- department; issue 17)
    select cpr
    from eligible
    group by cpr
    having count(distinct department) >= $at_least
),

counted as (
    -- one row per qualifying citizen; lists sorted with list_sort, not ordered aggregates (which
    -- sort per group); case keys in (source, case id) order
    select
        cpr,
        list_sort(list_distinct(list(department))) as departments,
        list_transform(list_sort(list({'source': source, 'case_id': case_id})),
                       lambda c: c.source || ':' || c.case_id) as case_keys
    from eligible
    semi join qualifying using (cpr)
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
)

select cpr, departments, case_keys, reason_codes, evidence from final
