-- Condition `area`: one row per resident citizen whose area code (the person extract's `area`
-- column, trimmed by staging) is one of $areas (trimmed, lower case; compared case-insensitively).
with final as (
    select
        cpr,
        []::varchar[] as departments,
        []::varchar[] as case_keys,
        [$code::varchar] as reason_codes,
        'area ' || area as evidence
    from residents
    where list_contains($areas::varchar[], lower(area))
)

select cpr, departments, case_keys, reason_codes, evidence from final
