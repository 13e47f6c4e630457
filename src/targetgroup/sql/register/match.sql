-- Which subject today carries on which open flag. Inputs: targets, reg.flags (the register
-- as it stood before this run). Outputs (temp tables): reg_today, reg_match. Removals are
-- applied afterwards (compare.sql): matching is about who is who, not about who is kept.

-- reg_today: one row per subject per rule meeting the rule on $as_of (before removals).
create or replace temp table reg_today as
with per_subject as (
    select
        rule_id,
        subject_type,
        subject_id,
        min(family_id) as family_id,
        list_sort(list_distinct(list(cpr))) as members,
        list_sort(list_distinct(flatten(list(departments)))) as departments,
        list_sort(list_distinct(flatten(list(case_keys)))) as case_keys,
        list_sort(list_distinct(flatten(list(reason_codes)))) as reason_codes,
        list_sort(list_distinct(flatten(list(coalesce(notify_departments, departments))))) as notify_departments
    from targets
    group by rule_id, subject_type, subject_id
),

final as (
    select rule_id, subject_type, subject_id, family_id, members, departments, case_keys,
        reason_codes, notify_departments
    from per_subject
)

select * from final;

-- reg_match: one row per subject today (today_id) per open flag of the same rule it carries
-- on, merges or splits from (docs/register.md, "Families that change"):
--   person flags match on the subject id (the CPR number);
--   family flags match when they share at least one member (the family id the rules compute
--   changes when a member with a lower CPR number joins, so it cannot be the key);
--   a flag sharing members with several subjects (a split) goes to the subject sharing the
--   most members with it, then the subject with the most members, then the lowest id;
--   several flags going to one subject (a merge): the oldest flag (earliest start, then the
--   lowest flag id) continues, the others end, merged into it.
-- role: 'continues' (the subject continues the flag), 'merged' (the flag ends, merged into
-- into_flag_id), 'split' (the subject shares members with a flag that continues elsewhere
-- and continues none itself: it opens a new flag).
create or replace temp table reg_match as
with open_before as (
    select *
    from reg.flags
    where status = 'open'
),

episode as (
    select flag_id, min(valid_from) as flag_start
    from reg.flags
    group by flag_id
),

person_pairs as (
    select t.rule_id, t.subject_id as today_id, o.flag_id, 1::bigint as shared
    from reg_today as t
    join open_before as o on o.rule_id = t.rule_id and o.subject_id = t.subject_id
    where t.subject_type = 'person' and o.subject_type = 'person'
),

today_members as (
    select t.rule_id, t.subject_id as today_id, m.cpr
    from reg_today as t
    cross join unnest(t.members) as m(cpr)
    where t.subject_type = 'family'
),

flag_members as (
    select o.rule_id, o.flag_id, m.cpr
    from open_before as o
    cross join unnest(o.members) as m(cpr)
    where o.subject_type = 'family'
),

family_pairs as (
    select t.rule_id, t.today_id, f.flag_id, count(*) as shared
    from today_members as t
    join flag_members as f using (rule_id, cpr)
    group by all
),

pairs as (
    select p.rule_id, p.today_id, p.flag_id, p.shared, len(t.members) as today_size, e.flag_start
    from (select * from person_pairs union all select * from family_pairs) as p
    join reg_today as t on t.rule_id = p.rule_id and t.subject_id = p.today_id
    join episode as e using (flag_id)
),

-- each open flag goes to one subject today
preferred as (
    select *
    from pairs
    qualify row_number() over (partition by flag_id order by shared desc, today_size desc, today_id) = 1
),

-- each subject today continues the oldest of the flags that go to it
ranked as (
    select
        *,
        row_number() over (partition by rule_id, today_id order by flag_start, flag_id) as pick,
        first_value(flag_id) over (partition by rule_id, today_id order by flag_start, flag_id) as oldest
    from preferred
),

split_off as (
    select p.rule_id, p.today_id, p.flag_id
    from pairs as p
    anti join ranked as r on r.rule_id = p.rule_id and r.today_id = p.today_id
),

final as (
    select rule_id, today_id, flag_id, if(pick = 1, 'continues', 'merged') as role,
        if(pick = 1, null, oldest) as into_flag_id
    from ranked
    union all
    select rule_id, today_id, flag_id, 'split', null
    from split_off
)

select * from final
order by rule_id, today_id, flag_id;
