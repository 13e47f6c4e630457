-- From rule matches to the targets contract, with every exclusion and inclusion recorded.

-- rule_candidates: one row per rule per citizen meeting every condition, persistence included.
create or replace temp table rule_candidates as
with persistent as (
    select rule_id, cpr, reason_codes
    from condition_hits
    where kind = 'persistence'
),

final as (
    select
        m.rule_id, m.subject_type, m.subject_id, m.cpr, m.family_id, m.departments, m.case_keys,
        m.reason_codes || coalesce(p.reason_codes, []::varchar[]) as reason_codes
    from rule_matches as m
    join rule_meta as r using (rule_id)
    left join persistent as p using (rule_id, cpr)
    where r.persistence_runs is null or p.cpr is not null
)

select * from final;

-- exclusions: one row per rule per citizen taken out of ('exclude'), held back until consent
-- ('await') or added to ('include') a
-- rule's flags (or a manual inclusion that could not apply: 'ignored'), with a reason code and the reason. rule_id '*' means every rule.
create or replace temp table exclusions as
with gone as (
    select distinct
        '*' as rule_id, p.cpr, 'exclude' as action,
        case when p.death_date <= $as_of then 'DEAD' else 'MOVED_AWAY' end as reason_code,
        case when p.death_date <= $as_of then 'died on or before the as-of date'
             else 'moved away on or before the as-of date' end as reason,
        null::varchar as added_by, null::varchar as list_file, null::bigint as list_line
    from cases as c
    join persons as p using (cpr)
    where tg_active_on(c.active, c.start_date, c.end_date, $as_of)
      and (p.death_date <= $as_of or p.moved_away_date <= $as_of)
),

protected as (
    select c.rule_id, c.cpr, 'exclude', 'PROTECTED',
        'name and address protection (the rule excludes protected citizens)', null, null, null
    from rule_candidates as c
    join rule_meta as m using (rule_id)
    join residents as r using (cpr)
    where m.protected = 'exclude' and r.protected
),

consent as (
    -- refused or withdrawn, as consent_status says (a recorded consent in force before the extract)
    select c.rule_id, c.cpr, 'exclude', 'CONSENT_REFUSED',
        if(any_value(s.origin) = 'recorded', 'consent ' || any_value(s.consent) || ' (record ' || any_value(s.consent_id) || ')',
           'consent refused in ' || string_agg(distinct a.source, ', ' order by a.source)), null, null, null
    from rule_candidates as c
    join rule_meta as m using (rule_id)
    join consent_status as s using (cpr)
    left join active_cases as a on a.cpr = c.cpr and a.consent = 'refused'
    where m.consent_refused = 'exclude' and s.consent in ('refused', 'withdrawn')
    group by c.rule_id, c.cpr
),

awaiting as (
    -- a rule that requires consent: without a given consent covering every department behind
    -- the match the citizen is not flagged but listed as awaiting consent
    select c.rule_id, c.cpr, 'await', 'AWAITING_CONSENT',
        'awaiting consent (the rule requires a given consent)', null, null, null
    from rule_candidates as c
    join rule_meta as m using (rule_id)
    left join consent_status as s using (cpr)
    where m.consent_required
      and not (coalesce(s.consent = 'given', false)
               and coalesce(list_bool_and(list_transform(c.departments,
                   lambda d: tg_consent_covers(s.consent, s.departments, d))), true))
),

manual_out as (
    select c.rule_id, c.cpr, 'exclude', 'MANUAL_EXCLUDE', l.reason, l.added_by, l.file, l.line
    from manual_list as l
    join rule_candidates as c on c.cpr = l.cpr and l.rule in (c.rule_id, '*')
    join rule_meta as m on m.rule_id = c.rule_id
    where l.kind = 'exclude' and m.manual
),

manual_in as (
    select l.rule as rule_id, l.cpr, case when r.cpr is null then 'ignored' else 'include' end as action,
        case when r.cpr is null then 'NOT_RESIDENT' else 'MANUAL_INCLUDE' end as reason_code,
        case when r.cpr is null then 'manual inclusion ignored: not alive and resident on the as-of date'
             else l.reason end as reason,
        l.added_by, l.file, l.line
    from manual_list as l
    join rule_meta as m on m.rule_id = l.rule
    left join residents as r using (cpr)
    where l.kind = 'include' and m.manual
      and not exists (select 1 from rule_candidates as c where c.rule_id = l.rule and c.cpr = l.cpr)
      and not exists (select 1 from manual_list as x
                      where x.kind = 'exclude' and x.cpr = l.cpr and x.rule in (l.rule, '*'))
),

final as (
    select * from gone
    union all select * from protected
    union all select * from consent
    union all select * from awaiting
    union all select * from manual_out
    union all select * from manual_in
)

select
    rule_id, cpr, action, reason_code, reason, added_by, list_file, list_line
from final
order by rule_id, action, reason_code, cpr;

-- targets: one row per flagged citizen per rule on $as_of (THE CONTRACT, see pipeline.identify).
create or replace temp table targets as
with kept as (
    select c.*
    from rule_candidates as c
    join rule_meta as m using (rule_id)
    join residents as r using (cpr)
    where (m.protected <> 'only' or r.protected)
      and not exists (select 1 from exclusions as e
                      where e.action in ('exclude', 'await') and e.cpr = c.cpr and e.rule_id in (c.rule_id, '*'))
),

manual_includes as (
    -- the citizens a manual inclusion list adds (few): only their cases are gathered below
    select distinct cpr
    from exclusions
    where action = 'include' and reason_code = 'MANUAL_INCLUDE'
),

included_cases as (
    -- one row per manually included citizen with an active case (ordered lists over every
    -- active case cost about 1 s per million citizens, issue 17)
    select cpr, list(distinct department order by department) as departments,
        list(source || ':' || case_id order by source, case_id) as case_keys
    from active_cases
    semi join manual_includes using (cpr)
    group by cpr
),

included as (
    select
        e.rule_id,
        m.subject_type,
        case when m.subject_type = 'family' then tg_family_id(e.cpr) else e.cpr end as subject_id,
        e.cpr,
        case when m.subject_type = 'family' then tg_family_id(e.cpr) end as family_id,
        coalesce(i.departments, []::varchar[]) as departments,
        coalesce(i.case_keys, []::varchar[]) as case_keys,
        ['MANUAL_INCLUDE'] as reason_codes
    from exclusions as e
    join rule_meta as m using (rule_id)
    left join included_cases as i using (cpr)
    where e.action = 'include' and e.reason_code = 'MANUAL_INCLUDE'
),

flags as (
    select * from kept
    union all
    select * from included
),

first_seen as (
    select rule_id, cpr, min(as_of) as first_as_of
    from rule_history
    group by rule_id, cpr
),

final as (
    select
        f.rule_id,
        f.subject_type,
        f.subject_id,
        f.cpr,
        f.family_id,
        f.departments,
        f.case_keys,
        f.reason_codes || case when r.protected then ['PROTECTED'] else []::varchar[] end as reason_codes,
        coalesce(m.notify, f.departments) as notify_departments,
        m.title_da as rule_title_da,
        m.title_en as rule_title_en,
        $rules_name as rules_name,
        $rules_hash as rules_hash,
        case when m.review_months is not null
             then tg_next_review(coalesce(s.first_as_of, $as_of), m.review_months, $as_of) end as review_due
    from flags as f
    join rule_meta as m using (rule_id)
    join residents as r using (cpr)
    left join first_seen as s using (rule_id, cpr)
)

select
    rule_id, subject_type, subject_id, cpr, family_id, departments, case_keys, reason_codes,
    notify_departments, rule_title_da, rule_title_en, rules_name, rules_hash, review_due
from final
order by rule_id, cpr;
