-- Condition `case_type`: one row per resident citizen with an active case on $as_of in
-- $department of a type in $case_types.
with matching as (
    select
        cpr,
        list(source || ':' || case_id order by source, case_id) as case_keys,
        list(distinct case_type order by case_type) as case_types
    from active_cases
    where department = $department
      and list_contains($case_types::varchar[], case_type)
    group by cpr
),

final as (
    select
        cpr,
        [$department::varchar] as departments,
        case_keys,
        [$code::varchar] as reason_codes,
        $department || ' case type ' || array_to_string(case_types, ', ') as evidence
    from matching
)

select cpr, departments, case_keys, reason_codes, evidence from final
