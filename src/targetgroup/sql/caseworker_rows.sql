-- caseworker_rows: one row per department per team per flagged citizen per rule, for the
-- departments that already serve the citizen: an active case there on $as_of (new, continuing,
-- updated flags), or, for ended flags, a department behind the flag's last basis.
-- Words come from lookup tables filled by deliver.texts (one language per run):
-- reason_words(code, text), change_words(code, text), consent_words(code, text), rule_words(rule_id, text).
create or replace temp table caseworker_rows as
with current_served as (
    select f.*, a.department as served_department, a.team, a.caseworker
    from flag_status as f
    join active_cases as a on a.cpr = f.cpr
    where f.change <> 'ended'
),

last_case as (
    -- the most recent case per citizen and department, for who served an ended flag
    select cpr, department, caseworker, team,
        row_number() over (partition by cpr, department
                           order by coalesce(end_date, start_date) desc nulls last, case_id) as pick
    from cases
),

ended_served as (
    select f.*, d.department as served_department, l.team, l.caseworker
    from flag_status as f, unnest(f.departments) as d(department)
    left join last_case as l on l.cpr = f.cpr and l.department = d.department and l.pick = 1
    where f.change = 'ended'
),

served as (
    select rule_id, subject_id, cpr, family_id, change, flag_valid_from, end_reason,
        served_department as department, team,
        string_agg(distinct caseworker, '; ' order by caseworker) as caseworker
    from (select * from current_served union all by name select * from ended_served)
    group by all
),

contacts as (
    select cpr, department,
        department || ': ' || coalesce(string_agg(distinct caseworker, ', ' order by caseworker), '?')
            || ' (' || coalesce(string_agg(distinct team, ', ' order by team), '?') || ')' as contact
    from active_cases
    group by cpr, department
),

consent as (
    select a.cpr, string_agg(distinct a.department || ': ' || w.text, '; ' order by a.department || ': ' || w.text) as consent
    from active_cases as a
    join consent_words as w on w.code = a.consent
    group by a.cpr
),

reasons as (
    select t.rule_id, t.subject_id, t.cpr,
        string_agg(coalesce(w.text, r.code), '; ' order by r.pos) as reason
    from targets as t, unnest(t.reason_codes) with ordinality as r(code, pos)
    left join reason_words as w on w.code = r.code
    group by all
),

final as (
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
        rs.reason,
        (select string_agg(c.contact, '; ' order by c.department)
           from contacts as c where c.cpr = s.cpr and c.department <> s.department) as others,
        cs.consent,
        s.flag_valid_from,
        case when s.change = 'ended' then $as_of::date end as ended_on,
        ew.text as end_reason_text,
        s.family_id,
        s.rule_id
    from served as s
    left join persons as p using (cpr)
    left join change_words as cw on cw.code = s.change
    left join rule_words as rw on rw.rule_id = s.rule_id
    left join reasons as rs on rs.rule_id = s.rule_id and rs.subject_id = s.subject_id and rs.cpr = s.cpr
    left join consent as cs on cs.cpr = s.cpr
    left join reason_words as ew on ew.code = s.end_reason
)

select * from final
order by department, team nulls last,
    case change_group when 'new' then 0 when 'continuing' then 1 else 2 end, caseworker, cpr, rule_id;
