-- reg_suppression_ends: one row per caseworker removal that stops holding tonight: it expired,
-- or a department became involved that was not involved when it was made (a material change).
-- Inputs: reg_suppression_state; $as_of, $run_id.
create or replace temp table reg_suppression_ends as
with ending as (
    select
        suppression_id,
        bool_or(state = 'expired') as expired,
        list_sort(list_distinct(flatten(list(new_departments)))) as new_departments
    from reg_suppression_state
    where state in ('expired', 'overridden')
    group by suppression_id
),

final as (
    select
        suppression_id,
        $run_id::varchar as ended_run,
        $as_of::date as ended_as_of,
        case
            when expired then 'expired'
            else 'facts changed: ' || array_to_string(new_departments, ', ') || ' involved since the removal'
        end as ended_reason
    from ending
)

select * from final
order by suppression_id;
