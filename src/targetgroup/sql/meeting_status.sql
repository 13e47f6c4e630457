-- meeting_status: one row per current flag per citizen per meeting followed on it (kind, due
-- date); due_flag_id is the course (flag) the meeting came due in, the one that shows it unless a
-- transition meeting is followed on another of the citizen's courses (below).
-- A flag is current when its change is new, continuing or updated (not ended, not awaiting).
-- Meetings come from two places:
-- 1. announced today: the age transitions a current flag's rule counts down to (reason codes
--    TURNS_16Y_... and TURNS_17Y6M_..., due on the 16th birthday / the day of 17½,
--    tg_add_period) and the flag's review date (targets.review_due), kind 'review';
-- 2. kept in the register (meeting_due_stored: every meeting an earlier run announced, with its
--    course; meetings.py) and due on or before $as_of, when the course was flagged on the due
--    date (open_on_due). They stay followed after the due date:
--    - a review while its own course (flag) is current;
--    - a 16 or 17½ meeting, which belongs to the citizen's transition to adulthood rather than to
--      one rule, while the citizen has any current flag and is under 18.
-- held: a record in meeting_records for the citizen, of that kind, for the meeting's rule or '*',
-- held between the due date - $meeting_window days and $as_of (both included).
-- overdue: the due date is on or before $as_of and the meeting is not held.
-- Inputs: targets, flag_status, persons, meeting_records, meeting_due_stored (meetings.py).
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

announced as (
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

kept as (
    -- by course, citizen, kind and due date: the register's meetings that have come due while flagged
    -- (a course this run ends was not flagged on the as-of date)
    select distinct k.flag_id, k.rule_id, k.cpr, k.kind, k.due_on
    from meeting_due_stored as k
    where k.due_on <= $as_of::date and k.first_as_of <= $as_of::date and k.open_on_due
        and not (k.due_on = $as_of::date
                 and exists (select 1 from flag_status as e where e.flag_id = k.flag_id and e.change = 'ended'))
),

followed as (
    select c.flag_id, k.rule_id, k.cpr, k.kind, k.due_on, k.flag_id as due_flag_id
    from kept as k
    join current_flags as c on c.flag_id = k.flag_id and c.cpr = k.cpr
    where k.kind = 'review'
    union all
    select c.flag_id, k.rule_id, k.cpr, k.kind, k.due_on, k.flag_id
    from kept as k
    join current_flags as c on c.cpr = k.cpr
    join persons as p on p.cpr = k.cpr
    where k.kind in ('16', '17.5') and $as_of::date < tg_add_period(p.birth_date, 216, 0)
),

due as (
    select distinct flag_id, rule_id, cpr, kind, due_on, due_flag_id
    from (
        select flag_id, rule_id, cpr, kind, due_on, flag_id as due_flag_id from announced
        union all
        select flag_id, rule_id, cpr, kind, due_on, due_flag_id from followed
    )
),

final as (
    select d.flag_id, d.rule_id, d.cpr, d.kind, d.due_on, d.due_flag_id,
        exists (
            select 1 from meeting_records as m
            where m.cpr = d.cpr and m.rule_id in (d.rule_id, '*') and m.kind = d.kind
                and m.held_on between d.due_on - $meeting_window::integer and $as_of::date
        ) as held
    from due as d
)

select flag_id, rule_id, cpr, kind, due_on, due_flag_id, held, due_on <= $as_of::date and not held as overdue
from final;
