-- Family rule $rule_id. A family is a minor resident child meeting all $n_child child
-- conditions, linked to a resident parent meeting all $n_parent parent conditions. Parents are
-- the mother and father named in the person extract (household adults only if the rule says so).
-- family_links: one row per qualifying child-parent pair.
insert into family_links
with child_ok as (
    select cpr from condition_hits
    where rule_id = $rule_id and role = 'child'
    group by cpr having count(distinct cond_no) = $n_child
),

parent_ok as (
    select cpr from condition_hits
    where rule_id = $rule_id and role = 'parent'
    group by cpr having count(distinct cond_no) = $n_parent
),

links as (
    select cpr as child, mother_cpr as parent, 'MOTHER' as via from residents where minor and mother_cpr is not null
    union all
    select cpr, father_cpr, 'FATHER' from residents where minor and father_cpr is not null
    union all
    select c.cpr, a.cpr, 'HOUSEHOLD'
    from residents as c
    join residents as a on a.household_id = c.household_id
    where $household_adults and c.minor and not a.minor
      and a.cpr is distinct from c.mother_cpr and a.cpr is distinct from c.father_cpr
),

final as (
    select $rule_id::varchar as rule_id, null::varchar as family_id, l.child, l.parent, l.via
    from links as l
    semi join child_ok as c on c.cpr = l.child
    semi join parent_ok as p on p.cpr = l.parent
)

select rule_id, family_id, child, parent, via from final;

-- The family id: families sharing a member are one family (connected components over the
-- pairs); the id is tg_family_id of the component's smallest member: 'F' and 12 hex digits of
-- a hash keyed with the warehouse's secret family key (rules/evaluate.py), so it holds no CPR
-- and cannot be computed from one without the warehouse.
create or replace temp table family_ids as
with recursive edges(a, b) as (
    select child, parent from family_links where rule_id = $rule_id
    union
    select parent, child from family_links where rule_id = $rule_id
),

reach(node, other) as (
    select a, a from edges
    union
    select r.node, e.b from reach as r join edges as e on e.a = r.other
)

select node as cpr, tg_family_id(min(other)) as family_id
from reach
group by node;

update family_links as l set family_id = f.family_id
from family_ids as f
where l.rule_id = $rule_id and f.cpr = l.child;

-- rule_matches: one row per flagged family member (each such child and each such parent).
insert into rule_matches
with members as (
    select child as cpr, 'child' as role, 'FAMILY_CHILD' as role_code, 'FAMILY_VIA_' || via as via_code
    from family_links where rule_id = $rule_id
    union all
    select parent, 'parent', 'FAMILY_PARENT', 'FAMILY_VIA_' || via
    from family_links where rule_id = $rule_id
),

evidence as (
    select m.cpr, m.role_code, m.via_code, h.cond_no, h.departments, h.case_keys, h.reason_codes
    from members as m
    join condition_hits as h on h.cpr = m.cpr and h.role = m.role and h.rule_id = $rule_id
),

per_member as (
    select
        cpr,
        flatten(list(departments)) as departments,
        flatten(list(case_keys)) as case_keys,
        list_sort(list_distinct(list(role_code))) || list_sort(list_distinct(list(via_code)))
            || flatten(list(reason_codes order by role_code, cond_no)) as reason_codes
    from evidence
    group by cpr
),

final as (
    select
        $rule_id::varchar as rule_id,
        'family' as subject_type,
        f.family_id as subject_id,
        p.cpr,
        f.family_id,
        list_sort(list_distinct(p.departments)) as departments,
        list_sort(list_distinct(p.case_keys)) as case_keys,
        tg_unique(p.reason_codes) as reason_codes
    from per_member as p
    join family_ids as f using (cpr)
)

select rule_id, subject_type, subject_id, cpr, family_id, departments, case_keys, reason_codes from final;
