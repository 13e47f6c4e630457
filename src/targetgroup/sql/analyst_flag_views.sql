-- Analyst views over the flag register (only when the warehouse has `flags`; see analyst_views.sql).

-- v_flags_history: one row per flag per validity period (SCD-2: valid_from inclusive, valid_to
-- exclusive, null while current), pseudonymised; case ids are left out.
create or replace view v_flags_history as
with final as (
    select
        pk.pseudonym as flag_pseudonym,
        f.rule_id,
        f.subject_type,
        psub.pseudonym as subject_pseudonym,
        (select list(p.pseudonym order by p.pseudonym) from unnest(f.members) as u(m)
           join pseudonyms as p on p.value = u.m) as member_pseudonyms,
        pf.pseudonym as family_pseudonym,
        f.departments,
        f.reason_codes,
        f.status,
        f.valid_from,
        f.valid_to,
        coalesce(f.valid_to, current_date) - f.valid_from as days,
        f.opened_run,
        f.closed_run,
        f.end_reason
    from flags as f
    left join pseudonyms as pk on pk.value = f.flag_id
    left join pseudonyms as psub on psub.value = f.subject_id
    left join pseudonyms as pf on pf.value = f.family_id
)

select flag_pseudonym, rule_id, subject_type, subject_pseudonym, member_pseudonyms, family_pseudonym,
    departments, reason_codes, status, valid_from, valid_to, days, opened_run, closed_run, end_reason
from final;
