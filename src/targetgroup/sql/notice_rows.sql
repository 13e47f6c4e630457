-- notice_rows: one row per reg_notices row (one notice per caseworker per citizen per rule),
-- in the words of the run's language, with what the caseworker list says about the citizen
-- (other departments, flagged family members, consent, due dates) as the disclosure policy
-- allows. A notice about another department's closed case is left out where the policy hides
-- that department from the caseworker's, and worded "not shown (no consent)" where it needs a
-- consent the citizen has not given.
-- Inputs: reg_notices, caseworker_rows, persons, consent_status, disclosure_levels and the word
-- tables of deliver.excel.prepare_rows, change_words_text(code, text).
create or replace temp table notice_rows as
with listed as (
    -- what the department's list says about the citizen in the rule (one row per team in the
    -- list: any of them, they say the same)
    select department, cpr, rule_id,
        any_value(others) as others, any_value(relatives) as relatives, any_value(consent) as consent,
        min(transition_due) as transition_due, min(review_due) as review_due
    from caseworker_rows
    group by all
),

closed as (
    select n.*,
        tg_disclosure(d.level, s.consent, s.departments, n.closed_department, n.department) as disclosure
    from reg_notices as n
    left join disclosure_levels as d on d.shown = n.closed_department and d.shown_to = n.department
    left join consent_status as s on s.cpr = n.cpr
),

rule_titles as (
    select map(list(rule_id), list(text)) as titles from rule_words
),

final as (
    select
        c.department,
        coalesce(c.team, nt.text) as team,
        coalesce(c.caseworker, uk.text) as caseworker,
        nw.text as notice,
        left(c.cpr, 6) || '-' || right(c.cpr, 4) as cpr_text,
        p.name,
        array_to_string(list_transform(string_split(c.rule_id, ', '),
            lambda r: coalesce(map_extract_value(t.titles, r), r)), '; ') as rule_title,
        c.flag_id,
        case c.notice
            when 'updated' then coalesce(cw.text, c.detail)
            when 'ended' then coalesce(rw.text, c.detail)
            when 'case_closed' then
                if(c.disclosure = 'shown',
                   replace(replace(replace(cd.text, '{dept}', c.closed_department),
                       '{caseworker}', coalesce(c.closed_caseworker, uk.text)), '{team}', coalesce(c.closed_team, uk.text)),
                   ns.text)
        end as detail,
        l.others,
        l.relatives,
        coalesce(l.consent, cs_w.text, uk.text) as consent,
        l.transition_due,
        l.review_due,
        $rules_name::varchar as rules_name,
        $rules_hash::varchar as rules_hash,
        c.cpr, c.notice as notice_code, c.rule_id
    from closed as c
    cross join rule_titles as t
    left join persons as p using (cpr)
    left join listed as l on l.department = c.department and l.cpr = c.cpr and l.rule_id = c.rule_id
    left join consent_status as cs on cs.cpr = c.cpr
    left join words as cs_w on cs_w.code = cs.consent
    left join words as nw on nw.code = 'notice_' || c.notice
    left join change_words_text as cw on cw.code = c.detail and c.notice = 'updated'
    left join reason_words as rw on rw.code = c.detail and c.notice = 'ended'
    cross join (select text from words where code = 'case_closed_detail') as cd
    cross join (select text from words where code = 'not_shown_no_consent') as ns
    cross join (select text from words where code = 'no_team') as nt
    cross join (select text from words where code = 'unknown') as uk
    where c.notice <> 'case_closed' or c.disclosure in ('shown', 'no_consent')
)

select * from final
order by department, team, caseworker, notice, cpr_text, rule_title, flag_id, detail;
