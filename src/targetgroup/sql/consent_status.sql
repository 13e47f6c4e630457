-- consent_status: one row per citizen with a consent record or a consent value in an active
-- case on $as_of. Precedence (docs/consent.md): the newest record made on or before $as_of that
-- is still in force (until empty or on/after $as_of) decides; without one, the extracts' consent
-- column of the citizen's active cases does (refused in any case wins over given).
-- departments: the departments a recorded consent covers ([] = all; the extract's covers all).
create or replace temp table consent_status as
with in_force as (
    select *
    from consent_records
    where recorded_on <= $as_of and (until is null or until >= $as_of)
    qualify row_number() over (partition by cpr order by recorded_on desc, created_at desc, consent_id desc) = 1
),

from_extract as (
    select cpr,
        case when bool_or(consent = 'refused') then 'refused' when bool_or(consent = 'given') then 'given' end
            as consent
    from active_cases
    where consent is not null
    group by cpr
),

final as (
    select
        coalesce(r.cpr, e.cpr) as cpr,
        coalesce(r.consent, e.consent) as consent,
        coalesce(r.departments, []::varchar[]) as departments,
        if(r.cpr is null, 'extract', 'recorded') as origin,
        r.consent_id,
        r.recorded_by,
        r.recorded_on,
        r.until
    from in_force as r
    full join from_extract as e using (cpr)
)

select cpr, consent, departments, origin, consent_id, recorded_by, recorded_on, until from final;

-- tg_consent_covers: does the citizen's consent (a consent_status row's consent, departments)
-- allow sharing about department d? Only a given consent does; [] covers every department.
create or replace temp macro tg_consent_covers(consent, departments, d) as
    coalesce(consent = 'given' and (len(departments) = 0 or list_contains(departments, d)), false);

-- tg_disclosure: may department `shown`'s involvement with a citizen be shown to department
-- `shown_to`'s caseworkers, at the policy's `level` (shown, with_consent, hidden) and with the
-- citizen's consent (consent, departments)? 'shown', 'no_consent' or 'hidden'.
create or replace temp macro tg_disclosure(level, consent, departments, shown, shown_to) as
    case level
        when 'shown' then 'shown'
        when 'with_consent' then
            if(tg_consent_covers(consent, coalesce(departments, []), shown)
               and tg_consent_covers(consent, coalesce(departments, []), shown_to), 'shown', 'no_consent')
        else 'hidden'
    end;
