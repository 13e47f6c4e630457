-- Condition `age_transition`: one row per resident citizen who reaches one of the listed ages
-- on a day from $as_of to $as_of + $within_days days (both inclusive); $ages lists them
-- as (months, days, code).
-- Ages are added with tg_add_period: a day that does not exist in the target month (29 February
-- in a common year, 31 in a short month) rolls over to the 1st of the next month, the same
-- convention as tg_age.
with ages as (
    select unnest($ages::struct(months integer, days integer, code varchar)[], recursive := true)
),

reaching as (
    select r.cpr, a.code, tg_add_period(r.birth_date, a.months, a.days) as on_day
    from residents as r
    cross join ages as a
),

final as (
    select
        cpr,
        []::varchar[] as departments,
        []::varchar[] as case_keys,
        list('TURNS_' || code || '_IN_' || $within_days::varchar || 'D' order by on_day) as reason_codes,
        string_agg('reaches ' || lower(code) || ' on ' || strftime(on_day, '%Y-%m-%d'), '; ' order by on_day) as evidence
    from reaching
    where on_day between $as_of and $as_of + $within_days::integer
    group by cpr
)

select cpr, departments, case_keys, reason_codes, evidence from final
