-- Person rule $rule_id: one row per resident citizen meeting all $n non-persistence conditions.
insert into rule_matches
with hits as (
    select *
    from condition_hits
    where rule_id = $rule_id and role = 'subject' and kind <> 'persistence'
),

matched as (
    select
        cpr,
        flatten(list(departments order by cond_no)) as departments,
        flatten(list(case_keys order by cond_no)) as case_keys,
        flatten(list(reason_codes order by cond_no)) as reason_codes
    from hits
    group by cpr
    having count(distinct cond_no) = $n
),

final as (
    select
        $rule_id::varchar as rule_id,
        'person' as subject_type,
        cpr as subject_id,
        cpr,
        null::varchar as family_id,
        list_sort(list_distinct(departments)) as departments,
        list_sort(list_distinct(case_keys)) as case_keys,
        tg_unique(reason_codes) as reason_codes
    from matched
)

select rule_id, subject_type, subject_id, cpr, family_id, departments, case_keys, reason_codes from final;
