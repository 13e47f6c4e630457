-- Compare today's targets with the register as it stood before this run (schema `reg`).
-- Inputs: reg_today, reg_match (match.sql), active_cases, persons, reg.flags, reg.suppressions;
-- $as_of, $run_id, $prev_as_of (as-of of the last committed run, or null), $rules_switched
-- (the rule set differs from the last committed run's).
-- Outputs (temp tables): reg_suppression_state, reg_compare, reg_end_reasons, reg_flag_closes,
-- reg_flag_opens, reg_member_ends, flag_status.

-- reg_suppression_state: one row per live removal (not lifted, not ended) per subject it
-- matches today (or one row with no subject): does it still apply, has it expired, or has
-- a department become involved that was not involved when it was made (overridden)?
create or replace temp table reg_suppression_state as
with live as (
    select *
    from reg.suppressions
    where lifted_at is null and ended_run is null
),

matched as (
    select
        s.suppression_id,
        t.subject_id as today_subject_id,
        list_filter(t.departments, lambda d: not list_contains(s.departments, d)) as new_departments
    from live as s
    join reg_today as t
        on t.rule_id = s.rule_id
        and (t.subject_id = s.subject_id or list_contains(t.members, s.cpr))
),

final as (
    select
        l.suppression_id, l.rule_id, l.cpr, l.subject_id, l.removed_by, l.created_at,
        m.today_subject_id,
        coalesce(m.new_departments, []) as new_departments,
        case
            when l.until is not null and l.until <= $as_of then 'expired'
            when len(coalesce(m.new_departments, [])) > 0 then 'overridden'
            else 'applies'
        end as state
    from live as l
    left join matched as m using (suppression_id)
)

select * from final;

-- reg_compare: one row per subject per rule that meets the rule today (and is not removed)
-- or had an open flag before this run; `change` says what happens to it. subject_id is the
-- register's: an open flag keeps its subject id while it goes on (a family's id today may
-- differ, see today_subject_id); a new flag takes today's id (with '-' and its flag id when a
-- flag that goes on already holds that id, which a split can cause). flag_id is set for new
-- flags too: the id a rebuild withdrew from the same subject opened on the same date, else the
-- next free one.
create or replace temp table reg_compare as
with removed as (
    select distinct rule_id, today_subject_id as subject_id
    from reg_suppression_state
    where state = 'applies' and today_subject_id is not null
),

open_before as (
    select *
    from reg.flags
    where status = 'open'
),

kept as (
    select t.*, m.flag_id as continues_flag_id
    from reg_today as t
    anti join removed as r using (rule_id, subject_id)
    left join reg_match as m on m.rule_id = t.rule_id and m.today_id = t.subject_id and m.role = 'continues'
),

-- the subject today each open flag went to (before removals), for the flags that end
taken as (
    select m.flag_id, m.into_flag_id, r.subject_id is not null as removed
    from reg_match as m
    left join removed as r on r.rule_id = m.rule_id and r.subject_id = m.today_id
    where m.role in ('continues', 'merged')
),

merged_in as (
    select into_flag_id as flag_id, list_sort(list(flag_id)) as merged_from
    from reg_match
    where role = 'merged'
    group by into_flag_id
),

split_from as (
    select rule_id, today_id, list_sort(list(flag_id)) as split_from
    from reg_match
    where role = 'split'
    group by all
),

joined as (
    select
        coalesce(k.rule_id, o.rule_id) as rule_id,
        k.subject_id as today_subject_id,
        o.subject_id as old_subject_id,
        k.rule_id is not null as meets,
        o.flag_id is not null as was_open,
        k.subject_type as new_subject_type, k.members as new_members,
        k.departments as new_departments, k.case_keys as new_case_keys,
        k.reason_codes as new_reason_codes, k.notify_departments as new_notify_departments,
        o.flag_id, o.version, o.subject_type as old_subject_type, o.members as old_members,
        o.departments as old_departments, o.valid_from as old_valid_from,
        coalesce(x.removed, false) as removed_today,
        if(coalesce(x.removed, false), null, x.into_flag_id) as merged_into,
        mi.merged_from,
        sf.split_from
    from kept as k
    full join open_before as o on o.flag_id = k.continues_flag_id
    left join taken as x on x.flag_id = o.flag_id and k.rule_id is null
    left join merged_in as mi on mi.flag_id = o.flag_id and k.rule_id is not null
    left join split_from as sf on sf.rule_id = k.rule_id and sf.today_id = k.subject_id and o.flag_id is null
),

last_id as (
    select coalesce(max(try_cast(substr(flag_id, 2) as integer)), 0) as n
    from (select flag_id from reg.flags union all select flag_id from reg.flags_rewound)
),

-- a flag a rebuild withdrew keeps its id when the same subject opens it again on the same date
-- (the same history gives the same register; a different one gets new ids)
withdrawn as (
    select rule_id, subject_id, min(flag_id) as flag_id
    from reg.flags_rewound
    where version = 1 and valid_from = $as_of
      and flag_id not in (select flag_id from reg.flags)
    group by rule_id, subject_id
),

reused as (
    select j.rule_id, j.today_subject_id, w.flag_id
    from joined as j
    join withdrawn as w on w.rule_id = j.rule_id and w.subject_id = j.today_subject_id
    where not j.was_open
),

new_ids as (
    select rule_id, today_subject_id, flag_id
    from reused
    union all
    select
        j.rule_id, j.today_subject_id,
        'F' || lpad((l.n + row_number() over (order by j.rule_id, j.today_subject_id))::varchar, 7, '0') as flag_id
    from joined as j
    cross join last_id as l
    anti join reused as r on r.rule_id = j.rule_id and r.today_subject_id = j.today_subject_id
    where not j.was_open
),

-- register subject ids of the flags that go on after this run
going_on as (
    select rule_id, old_subject_id as subject_id
    from joined
    where was_open and meets
),

final as (
    select
        j.rule_id,
        case
            when j.was_open then j.old_subject_id
            when exists (select 1 from going_on as g
                         where g.rule_id = j.rule_id and g.subject_id = j.today_subject_id)
                then j.today_subject_id || '-' || n.flag_id
            else j.today_subject_id
        end as subject_id,
        j.* exclude (rule_id, flag_id),
        coalesce(j.flag_id, n.flag_id) as flag_id,
        case
            when not j.was_open then 'new'
            when not j.meets then 'ended'
            when j.new_members = j.old_members and j.new_departments = j.old_departments
                and j.merged_from is null then 'continuing'
            else 'updated'
        end as change
    from joined as j
    left join new_ids as n on n.rule_id = j.rule_id and n.today_subject_id = j.today_subject_id and not j.was_open
)

select * from final;

-- reg_end_reasons: one row per flag that ends tonight, with a reason a caseworker understands.
create or replace temp table reg_end_reasons as
with ended as (
    select flag_id, rule_id, subject_id, old_subject_type as subject_type, old_members as members,
        old_departments as departments, old_valid_from as valid_from, removed_today, merged_into
    from reg_compare
    where change = 'ended'
),

member_facts as (
    select
        e.flag_id,
        bool_or(p.cpr is null) as left_register,
        bool_or(coalesce(p.death_date <= $as_of, false)) as died,
        bool_or(coalesce(p.moved_away_date <= $as_of, false)) as moved,
        bool_or(coalesce(tg_age(p.birth_date, $as_of) >= 18
            and tg_age(p.birth_date, coalesce($prev_as_of, e.valid_from)) < 18, false)) as turned_18
    from ended as e
    cross join unnest(e.members) as m(cpr)
    left join persons as p on p.cpr = m.cpr
    group by e.flag_id
),

today_departments as (
    select e.flag_id, list(distinct a.department) as departments
    from ended as e
    cross join unnest(e.members) as m(cpr)
    join active_cases as a on a.cpr = m.cpr
    group by e.flag_id
),

facts as (
    select
        e.flag_id,
        e.subject_type,
        -- ended although the rule still holds for the subject it went to today: only a
        -- caseworker's removal does that (a subject that no longer meets the rule gets the
        -- factual reason, even if it was also removed); or it merged into another family flag
        e.removed_today as removed,
        e.merged_into,
        f.left_register, f.died, f.moved, f.turned_18,
        list_sort(list_filter(e.departments,
            lambda d: not list_contains(coalesce(t.departments, []), d))) as lost_departments
    from ended as e
    join member_facts as f using (flag_id)
    left join today_departments as t using (flag_id)
),

final as (
    select
        flag_id,
        case
            when removed then 'removed by caseworker'
            when merged_into is not null then 'merged into family flag ' || merged_into
            when died then if(subject_type = 'family', 'a family member died', 'died')
            when moved then if(subject_type = 'family', 'a family member moved away', 'moved away')
            when left_register then 'no longer in the CPR register extract'
            -- a run with another rule set than the last committed run's (accepted by --switch-rules)
            when $rules_switched then 'rule set changed'
            when len(lost_departments) > 0 then 'case closed in ' || array_to_string(lost_departments, ', ')
            when turned_18 then if(subject_type = 'family', 'a child in the family turned 18', 'turned 18')
            else 'no longer meets the rule'
        end as end_reason
    from facts
)

select * from final;

-- reg_flag_closes: one row per register row this run closes (superseded or ended).
create or replace temp table reg_flag_closes as
with final as (
    select
        c.flag_id,
        c.version,
        if(c.change = 'ended', 'ended', 'superseded') as status,
        $as_of::date as valid_to,
        $run_id::varchar as closed_run,
        e.end_reason
    from reg_compare as c
    left join reg_end_reasons as e using (flag_id)
    where c.change in ('ended', 'updated')
)

select * from final;

-- reg_flag_opens: one row per register row this run opens (a new flag, or a new version).
create or replace temp table reg_flag_opens as
with after_removal as (
    -- a removal that no longer holds explains why the subject is flagged again
    select
        rule_id, today_subject_id,
        string_agg(
            case state
                when 'overridden' then array_to_string(new_departments, ', ')
                    || ' involved after removal ' || suppression_id
                else 'removal ' || suppression_id || ' expired'
            end, '; ' order by suppression_id) as note
    from reg_suppression_state
    where state in ('overridden', 'expired') and today_subject_id is not null
    group by all
),

changes as (
    select
        c.*,
        list_filter(c.new_departments, lambda d: not list_contains(c.old_departments, d)) as joined,
        list_filter(c.old_departments, lambda d: not list_contains(c.new_departments, d)) as left_,
        len(list_filter(c.new_members, lambda m: not list_contains(c.old_members, m))) as added,
        len(list_filter(c.old_members, lambda m: not list_contains(c.new_members, m))) as gone
    from reg_compare as c
    where c.change in ('new', 'updated')
),

final as (
    select
        c.flag_id,
        if(c.change = 'new', 1, c.version + 1) as version,
        c.rule_id,
        c.new_subject_type as subject_type,
        c.subject_id,
        if(c.new_subject_type = 'family', c.subject_id, null) as family_id,
        c.new_members as members,
        c.new_departments as departments,
        c.new_case_keys as case_keys,
        c.new_reason_codes as reason_codes,
        c.new_notify_departments as notify_departments,
        'open' as status,
        $as_of::date as valid_from,
        null::date as valid_to,
        $run_id::varchar as opened_run,
        null::varchar as closed_run,
        case
            when c.change = 'new' then 'new' || coalesce(': ' || nullif(concat_ws('; ',
                'split from family flag ' || array_to_string(c.split_from, ', '), a.note), ''), '')
            else 'updated: ' || concat_ws('; ',
                if(len(c.joined) > 0, array_to_string(c.joined, ', ') || ' joined', null),
                if(len(c.left_) > 0, array_to_string(c.left_, ', ') || ' left', null),
                case when c.added = 1 then '1 member added' when c.added > 1 then c.added || ' members added' end,
                case when c.gone = 1 then '1 member left' when c.gone > 1 then c.gone || ' members left' end,
                'merged with family flag ' || array_to_string(c.merged_from, ', '))
        end as change,
        null::varchar as end_reason
    from changes as c
    left join after_removal as a on a.rule_id = c.rule_id and a.today_subject_id = c.today_subject_id
)

select * from final;

-- reg_member_ends: one row per member who leaves a family flag that goes on (a new version
-- without them), with that member's own end reason: died, moved away, left the CPR extract,
-- turned 18, or the member's own case(s) of the flag's basis closed; else "no longer part of
-- the family flag" (e.g. the family changed around them). Kept in the register (flag_member_ends).
create or replace temp table reg_member_ends as
with left_members as (
    select f.flag_id, f.version, f.rule_id, m.cpr, f.case_keys, f.valid_from
    from reg.flags as f
    join reg_flag_closes as x using (flag_id, version)
    join reg_flag_opens as o using (flag_id)
    cross join unnest(list_filter(f.members, lambda m: not list_contains(o.members, m))) as m(cpr)
    where x.status = 'superseded'
),

known_cases as (
    -- today's extract first, else the last run's active cases (a case gone from the extract)
    select source || ':' || case_id as case_key, cpr, department, 0 as pick from cases
    union all
    select source || ':' || case_id, cpr, department, 1 from reg.last_active_cases
),

own_basis as (
    -- the member's own departments among the cases the flag's last version stood on
    select l.flag_id, l.cpr, list_sort(list_distinct(list(k.department))) as departments
    from left_members as l
    cross join unnest(l.case_keys) as c(case_key)
    join known_cases as k on k.case_key = c.case_key and k.cpr = l.cpr
    group by l.flag_id, l.cpr
),

today as (
    select cpr, list_distinct(list(department)) as departments
    from active_cases
    semi join left_members using (cpr)
    group by cpr
),

facts as (
    select
        l.flag_id, l.version, l.rule_id, l.cpr,
        p.cpr is null as left_register,
        coalesce(p.death_date <= $as_of, false) as died,
        coalesce(p.moved_away_date <= $as_of, false) as moved,
        coalesce(tg_age(p.birth_date, $as_of) >= 18
            and tg_age(p.birth_date, coalesce($prev_as_of, l.valid_from)) < 18, false) as turned_18,
        list_sort(list_filter(coalesce(b.departments, []),
            lambda d: not list_contains(coalesce(t.departments, []), d))) as lost_departments
    from left_members as l
    left join persons as p using (cpr)
    left join own_basis as b using (flag_id, cpr)
    left join today as t using (cpr)
),

final as (
    select
        flag_id, version, rule_id, cpr,
        $as_of::date as ended_on,
        $run_id::varchar as run_id,
        case
            when died then 'died'
            when moved then 'moved away'
            when left_register then 'no longer in the CPR register extract'
            when turned_18 then 'turned 18'
            when len(lost_departments) > 0 then 'case closed in ' || array_to_string(lost_departments, ', ')
            else 'no longer part of the family flag'
        end as end_reason
    from facts
)

select * from final;

-- flag_status: one row per citizen per rule with a flag open after this run or ended by it,
-- for the deliverables. change: new | continuing | updated | ended. subject_id and family_id
-- are the register's (stable while a flag goes on). A citizen in a flag open after the run
-- gets no 'ended' row for another flag of the same rule (a merge, a split, a move between
-- families): the open flag's row says what happened.
create or replace temp table flag_status as
with episode_start as (
    select flag_id, min(valid_from) as flag_valid_from
    from (select flag_id, valid_from from reg.flags union all select flag_id, valid_from from reg_flag_opens)
    group by flag_id
),

current_rows as (
    select o.flag_id, o.version, o.rule_id, o.subject_type, o.subject_id, o.family_id, o.members,
        o.departments, o.case_keys, o.notify_departments, o.valid_from, c.change, null::varchar as end_reason
    from reg_flag_opens as o
    join reg_compare as c using (flag_id)
    union all
    select f.flag_id, f.version, f.rule_id, f.subject_type, f.subject_id, f.family_id, f.members,
        f.departments, f.case_keys, f.notify_departments, f.valid_from, 'continuing', null
    from reg.flags as f
    join reg_compare as c using (flag_id, version)
    where c.change = 'continuing'
),

ended_rows as (
    select f.flag_id, f.version, f.rule_id, f.subject_type, f.subject_id, f.family_id, f.members,
        f.departments, f.case_keys, f.notify_departments, f.valid_from, 'ended' as change, x.end_reason
    from reg.flags as f
    join reg_flag_closes as x using (flag_id, version)
    where x.status = 'ended'
),

-- a member who left a family flag that goes on ends for that citizen, with their own reason
left_members as (
    select f.flag_id, f.version, f.rule_id, f.subject_type, f.subject_id, f.family_id,
        [e.cpr] as members, f.departments, f.case_keys, f.notify_departments, f.valid_from,
        'ended' as change, e.end_reason
    from reg.flags as f
    join reg_member_ends as e using (flag_id, version)
),

current_citizens as (
    select distinct r.rule_id, m.cpr
    from current_rows as r
    cross join unnest(r.members) as m(cpr)
),

all_rows as (
    select * from current_rows
    union all select * from ended_rows
    union all select * from left_members
),

final as (
    select
        r.rule_id, r.subject_type, r.subject_id, m.cpr, r.family_id, r.change, r.flag_id, r.version,
        s.flag_valid_from, r.valid_from as version_valid_from, r.end_reason, r.departments,
        r.case_keys, r.notify_departments
    from all_rows as r
    cross join unnest(r.members) as m(cpr)
    join episode_start as s using (flag_id)
    where r.change <> 'ended'
       or not exists (select 1 from current_citizens as c where c.rule_id = r.rule_id and c.cpr = m.cpr)
)

select * from final
order by rule_id, subject_id, cpr;
