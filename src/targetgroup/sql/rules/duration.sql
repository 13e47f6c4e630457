-- Condition `duration`: one row per resident citizen whose spell in $department (of the case
-- types in $filter_pairs, if any) runs on $as_of and started $months months $days days before
-- $as_of ($bound 'gt': more than; 'ge': at least), or started at most that long before $as_of
-- ($bound 'within': inflow, the spell started on one of the days $as_of - period to $as_of).
-- A spell is a gaps-and-islands merge of the citizen's periods in the department: cases active
-- on $as_of (counted up to $as_of) and cases that started and ended before $as_of (any status). Periods that
-- overlap or touch (the next starts at most one day after the last ended) form one spell.
with periods as (
    select cpr, source, case_id, start_date, $as_of::date as end_date
    from active_cases
    where department = $department
      and (not list_contains($filter_departments::varchar[], department)
           or list_contains($filter_pairs::struct(department varchar, case_type varchar)[],
                            {'department': department, 'case_type': case_type}))
    union all
    select c.cpr, c.source, c.case_id, c.start_date, c.end_date
    from cases as c
    semi join residents as r using (cpr)
    where c.department = $department
      and (not list_contains($filter_departments::varchar[], department)
           or list_contains($filter_pairs::struct(department varchar, case_type varchar)[],
                            {'department': department, 'case_type': case_type}))
      and c.in_register and c.end_date < $as_of
      and c.start_date is not null   -- a waiting-list row never started: no period
),

reached as (
    select
        *,
        max(end_date) over (partition by cpr order by start_date, end_date
                            rows between unbounded preceding and 1 preceding) as reach_before
    from periods
),

numbered as (
    select
        *,
        sum(case when reach_before is null or start_date > reach_before + 1 then 1 else 0 end)
            over (partition by cpr order by start_date, end_date rows unbounded preceding) as spell_no
    from reached
),

spells as (
    select
        cpr,
        spell_no,
        min(start_date) as spell_start,
        max(end_date) as spell_end,
        list(source || ':' || case_id order by start_date, source, case_id) as case_keys
    from numbered
    group by cpr, spell_no
),

final as (
    select
        cpr,
        [$department::varchar] as departments,
        case_keys,
        [$code::varchar] as reason_codes,
        $department || ' spell since ' || strftime(spell_start, '%Y-%m-%d') as evidence
    from spells
    where spell_end >= $as_of
      and case $bound
              when 'gt' then (spell_start + to_months($months) + to_days($days))::date < $as_of
              when 'ge' then (spell_start + to_months($months) + to_days($days))::date <= $as_of
              when 'within' then (spell_start + to_months($months) + to_days($days))::date >= $as_of
          end
)

select cpr, departments, case_keys, reason_codes, evidence from final
