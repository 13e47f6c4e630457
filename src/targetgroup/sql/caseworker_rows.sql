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
    -- the most recent case per citizen and department, for who served an ended flag (only the
    -- citizens of ended flags: a window over every case cost seconds at national scale)
    select cpr, department, caseworker, team,
        row_number() over (partition by cpr, department
                           order by coalesce(end_date, start_date) desc nulls last, case_id) as pick
    from cases
    semi join (select cpr from flag_status where change = 'ended') as e using (cpr)
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
        tg_join_sorted(list(caseworker), '; ') as caseworker
    from (select * from current_served union all by name select * from ended_served)
    group by all
),

contacts as (
    select cpr, department,
        department || ': ' || coalesce(tg_join_sorted(list(caseworker), ', '), '?')
            || ' (' || coalesce(tg_join_sorted(list(team), ', '), '?') || ')' as contact
    from active_cases
    semi join flag_status using (cpr)
    group by cpr, department
),

consent as (
    select a.cpr, tg_join_sorted(list(a.department || ': ' || w.text), '; ') as consent
    from active_cases as a
    join consent_words as w on w.code = a.consent
    semi join flag_status as f on f.cpr = a.cpr
    group by a.cpr
),

reasons as (
    -- the reason codes in their order, as words (a code without words stays as it is); by
    -- citizen and rule (one targets row each in practice)
    select t.rule_id, t.cpr,
        nullif(array_to_string(list_transform(t.codes,
            lambda c: coalesce(map_extract_value(w.words, c), c)), '; '), '') as reason
    from (select rule_id, cpr, flatten(list(reason_codes)) as codes from targets group by rule_id, cpr) as t,
        (select map(list(code), list(text)) as words from reason_words) as w
),

others as (
    -- the other departments' contacts of each listed citizen, per listing department
    select l.cpr, l.department, tg_join_sorted(list(c.contact), '; ') as others  -- a contact starts with its department
    from (select distinct cpr, department from served) as l
    join contacts as c on c.cpr = l.cpr and c.department <> l.department
    group by l.cpr, l.department
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
        o.others,
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
    -- by citizen: a family flag's subject id in the register can differ from today's family id
    left join reasons as rs on rs.rule_id = s.rule_id and rs.cpr = s.cpr
    left join consent as cs on cs.cpr = s.cpr
    left join reason_words as ew on ew.code = s.end_reason
    left join others as o on o.cpr = s.cpr and o.department = s.department
)

select * from final
order by department, team nulls last,
    case change_group when 'new' then 0 when 'continuing' then 1 else 2 end, caseworker, cpr, rule_id;
