-- meeting_status: one row per current flag per citizen per meeting it is due (kind, due date).
-- A flag is current when its change is new, continuing or updated (not ended, not awaiting).
-- Due dates: the age transitions a rule counts down to (reason codes TURNS_16Y_... and
-- TURNS_17Y6M_..., due on the 16th birthday / the day of 17½, tg_add_period) and the rule's
-- review date (targets.review_due), kind 'review'.
-- held: a record in meeting_records for the citizen, of that kind, for the flag's rule or '*',
-- held between the due date - $meeting_window days and $as_of (both included).
-- overdue: the due date is on or before $as_of and the meeting is not held.
-- Inputs: targets, flag_status, persons, meeting_records (meetings.py; empty when none).
create or replace temp table meeting_status as
with current_flags as (
    select distinct f.flag_id, f.rule_id, f.cpr
    from flag_status as f
    where f.change in ('new', 'continuing', 'updated')
),

codes as (
    -- by citizen and rule: today's reason codes and the review date
    select rule_id, cpr, flatten(list(reason_codes)) as codes, min(review_due) as review_due
    from targets
    group by rule_id, cpr
),

due as (
    select c.flag_id, c.rule_id, c.cpr, '16' as kind, tg_add_period(p.birth_date, 192, 0) as due_on
    from current_flags as c
    join codes as t using (rule_id, cpr)
    join persons as p using (cpr)
    where len(list_filter(t.codes, lambda x: x like 'TURNS\_16Y\_%' escape '\')) > 0
    union all
    select c.flag_id, c.rule_id, c.cpr, '17.5', tg_add_period(p.birth_date, 210, 0)
    from current_flags as c
    join codes as t using (rule_id, cpr)
    join persons as p using (cpr)
    where len(list_filter(t.codes, lambda x: x like 'TURNS\_17Y6M\_%' escape '\')) > 0
    union all
    select c.flag_id, c.rule_id, c.cpr, 'review', t.review_due
    from current_flags as c
    join codes as t using (rule_id, cpr)
    where t.review_due is not null
),

final as (
    select d.flag_id, d.rule_id, d.cpr, d.kind, d.due_on,
        exists (
            select 1 from meeting_records as m
            where m.cpr = d.cpr and m.rule_id in (d.rule_id, '*') and m.kind = d.kind
                and m.held_on between d.due_on - $meeting_window::integer and $as_of::date
        ) as held
    from due as d
)

select flag_id, rule_id, cpr, kind, due_on, held, due_on <= $as_of::date and not held as overdue
from final;
