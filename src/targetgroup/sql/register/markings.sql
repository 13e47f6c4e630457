-- The coordinated-course markings each case system should hold after this run, and the
-- actions that get it there. Inputs: reg.flags, reg_flag_closes, reg_flag_opens,
-- reg_end_reasons, active_cases, reg_systems (source -> system, marking_code), reg.markings,
-- reg_delivered (state.py: the open markings before a rebuild rewound them), reg_held
-- (imported markings; may be empty), reg_held_systems; $as_of, $run_id.

-- reg_expected: one row per case system per citizen that should carry the marking: the
-- citizen is a member of an open flag and has an active case today in a source of that
-- system whose department is one the flag notifies.
create or replace temp table reg_expected as
with open_after as (
    select f.flag_id, f.rule_id, f.members, f.departments, f.notify_departments
    from reg.flags as f
    anti join reg_flag_closes as x using (flag_id, version)
    where f.status = 'open'
    union all
    select flag_id, rule_id, members, departments, notify_departments
    from reg_flag_opens
),

episode_start as (
    select flag_id, min(valid_from) as started
    from (select flag_id, valid_from from reg.flags union all select flag_id, valid_from from reg_flag_opens)
    group by flag_id
),

in_system as (
    select distinct s.system, s.marking_code, m.cpr, o.flag_id, o.rule_id, o.departments, e.started
    from open_after as o
    cross join unnest(o.members) as m(cpr)
    join active_cases as a on a.cpr = m.cpr and list_contains(o.notify_departments, a.department)
    join reg_systems as s on s.source = a.source
    join episode_start as e using (flag_id)
),

final as (
    select
        system,
        cpr,
        min(marking_code) as marking_code,
        min(started) as start_date,
        list_sort(list_distinct(list(rule_id))) as rule_ids,
        list_sort(list_distinct(list(flag_id))) as flag_ids,
        list_sort(list_distinct(flatten(list(departments)))) as departments
    from in_system
    group by system, cpr
)

select *, 'coordinated course: ' || array_to_string(departments, ', ') as reason from final;

-- reg_marking_diff: one row per basis per system per citizen whose marking is expected or was
-- open. Two bases: 'register' (the register's open markings, rewound by a rebuild: its own rows
-- change against this) and 'delivered' (what the systems hold after every action delivered so
-- far, reg_delivered: the actions are worked out against this, so a rebuild sends only what
-- brings the systems from their last delivered state to the rebuilt one). Without a rebuild the
-- two are the same.
create or replace temp table reg_marking_diff as
with open_before as (
    select 'register' as basis, * from reg.markings where status = 'open'
    union all
    select 'delivered' as basis, * from reg_delivered
),

expected as (
    select b.basis, e.*
    from reg_expected as e
    cross join (values ('register'), ('delivered')) as b(basis)
),

held as (
    -- markings the system holds today, for systems whose list was imported
    select distinct h.system, h.cpr
    from reg_held as h
    join reg_systems as s on s.system = h.system
    where (h.marking_code is null or h.marking_code = s.marking_code)
      and (h.end_date is null or h.end_date > $as_of)
),

final as (
    select
        coalesce(e.basis, b.basis) as basis,
        coalesce(e.system, b.system) as system,
        coalesce(e.cpr, b.cpr) as cpr,
        e.system is not null as expected,
        b.system is not null as was_open,
        hs.system is not null as imported,
        h.system is not null as held,
        e.marking_code, e.start_date as new_start, e.rule_ids, e.flag_ids, e.departments, e.reason,
        b.marking_code as old_marking_code, b.start_date as old_start, b.rule_ids as old_rule_ids,
        b.flag_ids as old_flag_ids, b.departments as old_departments, b.reason as old_reason,
        b.valid_from as old_valid_from
    from expected as e
    full join open_before as b on b.basis = e.basis and b.system = e.system and b.cpr = e.cpr
    left join reg_held_systems as hs on hs.system = coalesce(e.system, b.system)
    left join held as h on h.system = coalesce(e.system, b.system) and h.cpr = coalesce(e.cpr, b.cpr)
)

select *,
    case
        when expected and not was_open then 'create'
        when not expected then 'end'
        when imported and not held then 'recreate'
        when rule_ids <> old_rule_ids or departments <> old_departments then 'update'
        else 'none'
    end as change
from final;

-- reg_stale_held: one row per system per citizen holding a marking (imported lists) that should
-- not exist and that no action of this run ends. `known`: the register placed it and has ended
-- it (the system did not apply the end): the end is issued again, night after night, until the
-- system no longer reports it. Not known: the register never placed it, and never ends a marking
-- it did not place (reported in reg_reconcile for a person to decide).
create or replace temp table reg_stale_held as
with held as (
    select h.system, h.cpr, s.marking_code, min(h.start_date) as start_date, min(h.end_date) as end_date,
        min(h.file) as file, min(h.line) as line
    from reg_held as h
    join reg_systems as s on s.system = h.system
    where (h.marking_code is null or h.marking_code = s.marking_code)
      and (h.end_date is null or h.end_date > $as_of)
    group by h.system, h.cpr, s.marking_code
),

last_row as (
    select system, cpr, start_date, rule_ids, flag_ids, valid_to, end_reason
    from reg.markings
    qualify row_number() over (partition by system, cpr order by valid_from desc, valid_to desc nulls first) = 1
),

final as (
    select
        h.system, h.cpr, h.marking_code,
        coalesce(h.start_date, l.start_date, $as_of::date) as start_date,
        h.end_date, h.file, h.line,
        l.cpr is not null as known,
        coalesce(l.rule_ids, []) as rule_ids,
        coalesce(l.flag_ids, []) as flag_ids,
        'still held after the end on ' || coalesce(l.valid_to::varchar, '?') || coalesce(': ' || l.end_reason, '')
            as reason
    from held as h
    anti join reg_expected as e on e.system = h.system and e.cpr = h.cpr
    anti join reg_marking_diff as d
        on d.basis = 'delivered' and d.system = h.system and d.cpr = h.cpr and d.change = 'end'
    left join last_row as l on l.system = h.system and l.cpr = h.cpr
)

select * from final;

-- reg_marking_end_reasons: why a marking ends (per basis): the flags' end reasons, or no active case.
create or replace temp table reg_marking_end_reasons as
with flags_behind as (
    select d.basis, d.system, d.cpr, f.flag_id
    from reg_marking_diff as d
    cross join unnest(d.old_flag_ids) as f(flag_id)
    where d.change = 'end'
),

final as (
    select
        b.basis, b.system, b.cpr,
        case
            when bool_and(r.flag_id is not null)
                then string_agg(distinct r.end_reason, '; ' order by r.end_reason)
            else 'no active case in ' || b.system || ' any more'
        end as end_reason
    from flags_behind as b
    left join reg_end_reasons as r using (flag_id)
    group by b.basis, b.system, b.cpr
)

select * from final;

-- reg_actions: one row per action per case system per citizen, this run: what brings each
-- system from its delivered state to the one this run expects, and the ends of stale markings.
create or replace temp table reg_actions as
with delivered as (
    select
        d.system,
        if(d.change = 'recreate', 'create', d.change) as action,
        d.cpr,
        coalesce(d.marking_code, d.old_marking_code) as marking_code,
        case when d.change = 'create' then d.new_start else d.old_start end as start_date,
        if(d.change = 'end', $as_of::date, null) as end_date,
        case d.change
            when 'end' then r.end_reason
            when 'recreate' then 'missing in the system, create again: ' || d.reason
            else d.reason
        end as reason,
        coalesce(d.rule_ids, d.old_rule_ids) as rule_ids,
        coalesce(d.flag_ids, d.old_flag_ids) as flag_ids
    from reg_marking_diff as d
    left join reg_marking_end_reasons as r using (basis, system, cpr)
    where d.basis = 'delivered' and d.change <> 'none'
),

stale as (
    select system, 'end' as action, cpr, marking_code, start_date, $as_of::date as end_date, reason,
        rule_ids, flag_ids
    from reg_stale_held
    where known
),

final as (
    select * from delivered
    union all
    select * from stale
)

select * from final
order by system, cpr, action;

-- reg_marking_closes / reg_marking_opens: register rows for the markings.
create or replace temp table reg_marking_closes as
select d.system, d.cpr, d.old_valid_from as valid_from,
    if(d.change = 'end', 'ended', 'superseded') as status,
    $as_of::date as valid_to, $run_id::varchar as closed_run, r.end_reason
from reg_marking_diff as d
left join reg_marking_end_reasons as r using (basis, system, cpr)
where d.basis = 'register' and d.change in ('end', 'update', 'recreate');

create or replace temp table reg_marking_opens as
select d.system, d.cpr, d.marking_code,
    if(d.change = 'create', d.new_start, d.old_start) as start_date,
    d.rule_ids, d.flag_ids, d.departments, d.reason, 'open' as status,
    $as_of::date as valid_from, null::date as valid_to, $run_id::varchar as opened_run,
    null::varchar as closed_run, null::varchar as end_reason
from reg_marking_diff as d
where d.basis = 'register' and d.change in ('create', 'update', 'recreate');

-- reg_reconcile: one row per finding per system per citizen, for systems whose markings
-- were imported: a marking that should not exist (ended again when the register placed it,
-- else reported), or one that is missing (created again).
create or replace temp table reg_reconcile as
with stale as (
    select system, cpr, marking_code, start_date, end_date,
        if(known, 'ended in the register, still held by the system: end action issued again',
           'held by the system, unknown to the register') as finding,
        file, line
    from reg_stale_held
),

missing as (
    select system, cpr, marking_code, old_start as start_date, null::date as end_date,
        'missing in the system, create action issued' as finding, null::varchar as file, null::bigint as line
    from reg_marking_diff
    where basis = 'delivered' and change = 'recreate'
),

final as (
    select system, cpr, marking_code, start_date, end_date, finding, file, line from stale
    union all
    select system, cpr, marking_code, start_date, end_date, finding, file, line from missing
)

select * from final
order by system, finding, cpr;
