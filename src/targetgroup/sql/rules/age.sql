-- Condition `age`: one row per resident citizen whose age on $as_of (whole years) is in
-- [$min, $max].
with final as (
    select
        cpr,
        []::varchar[] as departments,
        []::varchar[] as case_keys,
        [$code::varchar] as reason_codes,
        'age ' || age as evidence
    from residents
    where age between $min and $max
)

select cpr, departments, case_keys, reason_codes, evidence from final
