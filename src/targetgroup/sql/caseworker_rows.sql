-- caseworker_rows: one row per department per team per listed citizen per rule, only for a
-- department that serves that citizen itself (need to know):
--   new, continuing, updated flags: the department has an active case for the citizen on $as_of;
--   ended flags: the department had a case of that citizen in the flag's basis (its case keys);
--   awaiting consent (a rule that requires consent): an active case on $as_of.
-- Other departments and family members are shown as the disclosure policy allows
-- (disclosure_levels, consent_status): department, caseworker and team, never case details.
-- Words come from lookup tables filled by deliver.texts (one language per run):
-- reason_words(code, text), change_words(code, text), words(code, text), rule_words(rule_id, text).
-- Overdue meetings: meeting_status (sql/meeting_status.sql, docs/meetings.md), on current flags' rows.
create or replace temp table caseworker_rows as
with current_served as (
    select f.rule_id, f.subject_id, f.cpr, f.family_id, f.flag_id, f.version, f.change, f.flag_valid_from,
        f.end_reason, a.department as served_department, a.team, a.caseworker
    from flag_status as f
    join active_cases as a on a.cpr = f.cpr
    where f.change <> 'ended'
),

basis_cases as (
    -- the cases of ended flags' citizens: today's extract first, else the last run's active cases
    select source || ':' || case_id as case_key, cpr, department, caseworker, team
    from (
        select source, case_id, cpr, department, caseworker, team, 0 as pick from cases
        union all
        select source, case_id, cpr, department, caseworker, team, 1 from reg.last_active_cases
    )
    semi join (select cpr from flag_status where change = 'ended') as e using (cpr)
    qualify row_number() over (partition by source, case_id, cpr order by pick) = 1
),

ended_served as (
    select f.rule_id, f.subject_id, f.cpr, f.family_id, f.flag_id, f.version, f.change, f.flag_valid_from,
        f.end_reason, b.department as served_department, b.team, b.caseworker
    from flag_status as f
    cross join unnest(f.case_keys) as k(case_key)
    join basis_cases as b on b.case_key = k.case_key and b.cpr = f.cpr
    where f.change = 'ended'
),

awaiting_served as (
    select e.rule_id, null as subject_id, e.cpr, null as family_id, null as flag_id, null::integer as version,
        'awaiting' as change,
        null::date as flag_valid_from, null as end_reason,
        a.department as served_department, a.team, a.caseworker
    from exclusions as e
    join active_cases as a using (cpr)
    where e.action = 'await'
),

served as (
    select rule_id, subject_id, cpr, family_id, flag_id, version, change, flag_valid_from, end_reason,
        served_department as department, team,
        tg_join_sorted(list(caseworker), '; ') as caseworker
    from (select * from current_served
          union all by name select * from ended_served
          union all by name select * from awaiting_served)
    group by all
),

listed as (
    select distinct cpr, department from served
),

contacts as (
    -- every active department of the listed citizens and of their flags' other members
    select cpr, department,
        department || ': ' || coalesce(tg_join_sorted(list(caseworker), ', '), '?')
            || ' (' || coalesce(tg_join_sorted(list(team), ', '), '?') || ')' as contact
    from active_cases
    semi join (select cpr from served union select cpr from flag_status) using (cpr)
    group by cpr, department
),

shown as (
    -- may department `department`'s involvement with `cpr` be shown to `shown_to`? (its own
    -- department's always is)
    select c.cpr, c.department, c.contact, l.department as shown_to,
        case when c.department = l.department then 'shown'
            else tg_disclosure(d.level, s.consent, s.departments, c.department, l.department)
        end as disclosure
    from contacts as c
    cross join (select distinct department from listed) as l
    left join disclosure_levels as d on d.shown = c.department and d.shown_to = l.department
    left join consent_status as s on s.cpr = c.cpr
),

others as (
    -- the other departments of each listed citizen, per listing department (a contact starts
    -- with its department); "not shown (no consent)" where the policy needs a consent
    select l.cpr, l.department,
        concat_ws('; ',
            tg_join_sorted(list(x.contact) filter (where x.disclosure = 'shown'), '; '),
            if(bool_or(x.disclosure = 'no_consent'), any_value(w.text), null)) as others
    from listed as l
    join shown as x on x.cpr = l.cpr and x.shown_to = l.department and x.department <> l.department
    cross join (select text from words where code = 'not_shown_no_consent') as w
    group by l.cpr, l.department
),

family_members as (
    select distinct cpr from flag_status where family_id is not null
),

people as materialized (
    -- the persons rows the lists name: listed citizens and their flags' members (a few
    -- thousand of 6 million), so that no join below holds the whole person extract
    select cpr, name, birth_date, mother_cpr, father_cpr
    from persons
    semi join (select cpr from served union select cpr from flag_status) as n using (cpr)
),

coparents as (
    -- pairs of family-flag members who are the two parents of one child, both ways round: an
    -- equi-join on persons, so that the relation costs one pass over persons, not one per relative
    select c.mother_cpr as cpr, c.father_cpr as other
    from persons as c
    semi join family_members as f on f.cpr = c.mother_cpr
    where c.father_cpr is not null
    union
    select c.father_cpr, c.mother_cpr
    from persons as c
    semi join family_members as f on f.cpr = c.father_cpr
    where c.mother_cpr is not null
),

relatives as (
    -- family flags: the flag's other members, with relation, age and their departments'
    -- caseworkers and teams (as the disclosure policy allows), per listing department
    select s.cpr, s.rule_id, s.flag_id, s.department,
        string_agg(
            coalesce(rw.text, '') || ': ' || coalesce(p2.name, '?') || ', '
                || tg_age(p2.birth_date, $as_of::date) || ' ' || yw.text
                || coalesce(' — ' || (
                    select tg_join_sorted(list(if(x.disclosure = 'shown', x.contact, nw.text)), '; ')
                    from shown as x
                    where x.cpr = m.cpr and x.shown_to = s.department and x.disclosure <> 'hidden'
                      and list_contains(m.departments, x.department)), ''),
            ' | ' order by m.cpr) as relatives
    from (select distinct cpr, rule_id, flag_id, version, change, department
          from served where family_id is not null) as s
    join flag_status as m on m.flag_id = s.flag_id and m.cpr <> s.cpr
    join people as p on p.cpr = s.cpr
    join people as p2 on p2.cpr = m.cpr
    left join coparents as cp on cp.cpr = s.cpr and cp.other = m.cpr
    left join words as rw on rw.code = case
        when m.cpr = p.mother_cpr then 'rel_mother'
        when m.cpr = p.father_cpr then 'rel_father'
        when s.cpr in (p2.mother_cpr, p2.father_cpr) then 'rel_child'
        when p.mother_cpr = p2.mother_cpr or p.father_cpr = p2.father_cpr then 'rel_sibling'
        when cp.cpr is not null then 'rel_coparent'
        else 'rel_household' end
    cross join (select text from words where code = 'years') as yw
    cross join (select text from words where code = 'not_shown_no_consent') as nw
    -- members of the flag as it stands; for an ended flag, its members when it ended
    where m.change <> 'ended' or (s.change = 'ended' and m.version = s.version)
    group by s.cpr, s.rule_id, s.flag_id, s.department
),

consent as (
    select s.cpr,
        w.text || coalesce(' (' || nullif(concat_ws('; ',
            nullif(array_to_string(s.departments, ', '), ''),
            if(s.until is not null, uw.text || ' ' || strftime(s.until, '%d-%m-%Y'), null)), '') || ')', '')
            as consent
    from consent_status as s
    join words as w on w.code = s.consent
    cross join (select text from words where code = 'until') as uw
    semi join listed as l on l.cpr = s.cpr
),

reasons as (
    -- the reason codes in their order, as words (a code without words stays as it is), and the
    -- review date; by citizen and rule (one targets row each in practice)
    select t.rule_id, t.cpr, t.review_due, t.codes,
        nullif(array_to_string(list_transform(t.codes,
            lambda c: coalesce(map_extract_value(w.words, c), c)), '; '), '') as reason
    from (select rule_id, cpr, flatten(list(reason_codes)) as codes, min(review_due) as review_due
          from targets group by rule_id, cpr) as t,
        (select map(list(code), list(text)) as words from reason_words) as w
),

final_rows as (
    select
        s.department,
        s.team,
        s.change,
        case when s.change = 'updated' then 'continuing' else s.change end as change_group,
        cw.text as change_text,
        left(s.cpr, 6) || '-' || right(s.cpr, 4) as cpr_text,
        s.cpr,
        p.name,
        tg_age(p.birth_date, $as_of::date) as age,
        s.caseworker,
        rw.text as rule_title,
        coalesce(rs.reason, if(s.change = 'awaiting', aw.text, null)) as reason,
        o.others,
        r.relatives,
        coalesce(cs.consent, uk.text) as consent,
        s.flag_valid_from,
        case when s.change = 'ended' then $as_of::date end as ended_on,
        coalesce(ew.text, s.end_reason) as end_reason_text,
        -- the next age transition a rule counts down to (16, 17½ ...), from its reason codes
        list_min(list_transform(
            list_filter(coalesce(rs.codes, []), lambda c: c like 'TURNS\_%' escape '\'),
            lambda c: tg_add_period(p.birth_date,
                coalesce(try_cast(regexp_extract(c, 'TURNS_(\d+)Y', 1) as integer), 0) * 12
                    + coalesce(try_cast(regexp_extract(c, 'TURNS_(?:\d+Y)?(\d+)M', 1) as integer), 0),
                coalesce(try_cast(regexp_extract(c, 'TURNS_(?:\d+Y)?(?:\d+M)?(\d+)D_', 1) as integer), 0))))
            as transition_due,
        rs.review_due,
        s.family_id,
        s.flag_id,
        s.rule_id,
        $rules_name::varchar as rules_name,
        $rules_hash::varchar as rules_hash
    from served as s
    left join people as p using (cpr)
    left join change_words as cw on cw.code = s.change
    left join rule_words as rw on rw.rule_id = s.rule_id
    -- by citizen: a family flag's subject id in the register can differ from today's family id
    left join reasons as rs on rs.rule_id = s.rule_id and rs.cpr = s.cpr
    left join consent as cs on cs.cpr = s.cpr
    left join reason_words as ew on ew.code = s.end_reason
    left join others as o on o.cpr = s.cpr and o.department = s.department
    left join relatives as r on r.cpr = s.cpr and r.rule_id = s.rule_id and r.flag_id = s.flag_id
        and r.department = s.department
    cross join (select text from words where code = 'awaiting_reason') as aw
    cross join (select text from words where code = 'unknown') as uk
),

overdue as (
    -- by flag and citizen: the overdue meetings (meeting_status) as words with their due dates
    select m.flag_id, m.cpr,
        string_agg(w.text || ' ' || strftime(m.due_on, '%d-%m-%Y'), '; ' order by m.due_on, m.kind) as overdue_meeting
    from meeting_status as m
    join words as w on w.code = 'meeting_' || replace(m.kind, '.', '_')
    where m.overdue
    group by all
),

final as (
    select l.*, case when l.change in ('new', 'continuing', 'updated') then o.overdue_meeting end as overdue_meeting
    from final_rows as l
    left join overdue as o on o.flag_id = l.flag_id and o.cpr = l.cpr
)

select * from final
order by department, team nulls last,
    case change_group when 'new' then 0 when 'continuing' then 1 when 'awaiting' then 2 else 3 end,
    caseworker, cpr, rule_id;
