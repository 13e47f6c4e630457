-- Who and what counts on the as-of date ($as_of). DOMAIN.md "Precise semantics".

-- residents: one row per citizen alive and resident on $as_of, with age and minor flag (no
-- name: the lists take it from persons; residents is almost as big as persons at national scale).
create or replace temp table residents as
with living as (
    select *
    from persons
    where (death_date is null or death_date > $as_of)
      and (moved_away_date is null or moved_away_date > $as_of)
),

final as (
    select
        cpr, birth_date, household_id, mother_cpr, father_cpr, protected, area,
        tg_age(birth_date, $as_of) as age,
        tg_age(birth_date, $as_of) < 18 as minor
    from living
)

select * from final;

-- active_cases: one row per case that is active on $as_of and belongs to a resident citizen.
create or replace temp table active_cases as
with active as (
    select *
    from cases
    where in_register
      and tg_active_on(active, start_date, end_date, $as_of)
),

final as (
    select
        a.source, a.department, a.system, a.cpr, a.case_id, a.case_type, a.status,
        a.start_date, a.end_date, a.caseworker, a.team, a.consent
    from active as a
    semi join residents as r using (cpr)
)

select * from final;
