-- Work tables and macros for rule evaluation (targetgroup.rules.evaluate).

-- d plus a number of months and days. A day that does not exist in the target month
-- (29 February in a common year, the 31st of a short month) rolls over to the 1st of the next
-- month, the same convention as tg_age (a 29 February child turns a year older on 1 March).
create or replace macro tg_add_period(d, months, days) as
    case
        when day((d + to_months(months))::date) < day(d) then last_day((d + to_months(months))::date) + 1
        else (d + to_months(months))::date
    end + days;

-- A list without repeated values, in the order of first appearance.
create or replace macro tg_unique(l) as list_filter(l, lambda x, i: list_position(l, x) = i);

-- The first review date on or after d in a cycle of `months` starting at `first` (n >= 1).
create or replace macro tg_next_review(first, months, d) as
    tg_add_period(first, months * greatest(1, ceil(datediff('month', first, d) / months)::int
        + case when tg_add_period(first, months * greatest(1, ceil(datediff('month', first, d) / months)::int), 0) < d
               then 1 else 0 end), 0);

-- condition_hits: one row per rule per condition per citizen that meets the condition on $as_of.
create or replace temp table condition_hits (
    rule_id varchar, role varchar, cond_no integer, kind varchar, cpr varchar,
    departments varchar[], case_keys varchar[], reason_codes varchar[], evidence varchar
);

-- rule_matches: one row per rule per citizen meeting every condition except persistence and
-- before exclusions (kept in the warehouse as the history persistence reads).
create or replace temp table rule_matches (
    rule_id varchar, subject_type varchar, subject_id varchar, cpr varchar, family_id varchar,
    departments varchar[], case_keys varchar[], reason_codes varchar[]
);

-- family_links: one row per family rule per child-parent pair that put a family in the group.
create or replace temp table family_links (
    rule_id varchar, family_id varchar, child varchar, parent varchar, via varchar
);

-- manual_list: one row per line of the manual exclusion and inclusion lists.
create or replace temp table manual_list (
    kind varchar, file varchar, line bigint, cpr varchar, rule varchar, reason varchar, added_by varchar
);

-- rule_meta: one row per rule of the rule set (filled from the rule file).
create or replace temp table rule_meta (
    rule_id varchar, subject_type varchar, title_da varchar, title_en varchar,
    protected varchar, consent_refused varchar, manual boolean, notify varchar[],
    persistence_runs integer, review_months integer, consent_required boolean
);
