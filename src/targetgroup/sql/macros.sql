-- Macros shared by every stage. Loaded once per connection by targetgroup.warehouse.connect().

-- CPR cleaning (DOMAIN.md "CPR cleaning"): dashes and spaces removed; a float rendering such as
-- '606145900.0' is the integer it shows; ten digits are kept, nine digits get the leading zero
-- Excel removed; anything else is null and tg_cpr_problem says why.
create or replace macro tg_cpr_digits(raw) as
    case
        when regexp_full_match(regexp_replace(coalesce(raw, ''), '[\s\-]', '', 'g'), '[0-9]+\.0*')
            then split_part(regexp_replace(raw, '[\s\-]', '', 'g'), '.', 1)
        else regexp_replace(coalesce(raw, ''), '[\s\-]', '', 'g')
    end;

create or replace macro tg_cpr(raw) as
    case
        -- fast paths for the usual spellings (10 digits, ddmmyy-nnnn); the general rule below
        when raw is null then null
        when regexp_full_match(raw, '[0-9]{10}') then raw
        when regexp_full_match(raw, '[0-9]{6}-[0-9]{4}') then replace(raw, '-', '')
        when regexp_full_match(tg_cpr_digits(raw), '[0-9]{10}') then tg_cpr_digits(raw)
        when regexp_full_match(tg_cpr_digits(raw), '[0-9]{9}') then '0' || tg_cpr_digits(raw)
    end;

create or replace macro tg_cpr_problem(raw) as
    case
        when tg_cpr(raw) is not null then null
        when tg_cpr_digits(raw) = '' then 'CPR is empty'
        when regexp_full_match(tg_cpr_digits(raw), '[0-9]+')
            then 'CPR has ' || length(tg_cpr_digits(raw)) || ' digits, expected 10 (or 9 from Excel)'
        else 'CPR contains characters other than digits, dashes and spaces'
    end;

-- Whether the leading zero was put back: raw is the text as delivered, cpr its tg_cpr(raw)
-- (staging computes that once per row and passes it in).
create or replace macro tg_cpr_repaired(raw, cpr) as
    case when cpr is null or cpr = raw then false else length(tg_cpr_digits(raw)) = 9 end;

-- The quality gate's CPR check: not ten digits, or no real birth date (birth: tg_cpr_birth_date(cpr)).
create or replace macro tg_cpr_invalid(cpr, birth) as
    not regexp_full_match(cpr, '[0-9]{10}') or birth is null;

-- Masked CPR for messages and reports: birth date part only.
create or replace macro tg_mask(cpr) as
    case when cpr is null or length(cpr) < 6 then '******-****' else left(cpr, 6) || '-****' end;

-- Birth date from a 10-digit CPR; the 7th digit with the year gives the century.
create or replace macro tg_cpr_birth_date(cpr) as
    try_strptime(
        left(cpr, 4)
        || case
            when substr(cpr, 7, 1) in ('0', '1', '2', '3') then '19'
            when substr(cpr, 7, 1) in ('4', '9') then
                case when substr(cpr, 5, 2)::int <= 36 then '20' else '19' end
            else case when substr(cpr, 5, 2)::int <= 57 then '20' else '18' end
        end
        || substr(cpr, 5, 2),
        '%d%m%Y'
    )::date;

-- A date cell as text without a time of day: the time is ignored (DOMAIN.md), so a trailing
-- ' 10:15', ' 10:15:00', 'T10:15:00.000+01:00' is cut off. Only a time is cut: '15-OCT-2026'
-- and '15 okt 2026' keep their letters and spaces.
create or replace macro tg_date_text(raw) as
    nullif(regexp_replace(trim(raw), '[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]*)?)?( ?([+-][0-9:]+|Z))?$', ''), '');

-- A code cell (status, ...) trimmed of spaces, tabs, line breaks, non-breaking and zero-width
-- no-break spaces (config.STATUS_BLANKS trims the codes in the sources file the same way).
create or replace macro tg_code(raw) as
    nullif(trim(raw, ' ' || chr(9) || chr(10) || chr(13) || chr(160) || chr(8199) || chr(8239) || chr(65279)), '');

-- Danish month abbreviations as the English ones strptime's %b reads (the other ten are the same
-- in both languages); strptime itself ignores the case of month names.
create or replace macro tg_month_en(t) as
    regexp_replace(regexp_replace(t, '\bmaj\b', 'May', 'gi'), '\bokt\b', 'Oct', 'gi');

-- A text cell parsed with the source's date format, as written: first the whole cell (a format
-- with a time of day, or with spaces), then without a time of day the format does not read.
-- Month names (%b, %B) may be English or Danish abbreviations, in any case.
-- A case, not coalesce(): DuckDB evaluates every argument of coalesce for every row, and the
-- time-cutting regexp on every date cell cost more than the parse itself (issue 17: 0.4 s per
-- million cells); the case looks at the second spelling only for the cells the first did not fit.
create or replace macro tg_date_in(t, fmt) as
    (case
        when try_strptime(t, fmt) is not null then try_strptime(t, fmt)
        else try_strptime(tg_date_text(t), fmt)
    end)::date;

create or replace macro tg_date(raw, fmt) as
    tg_date_in(case when regexp_matches(fmt, '%[bBh]') then tg_month_en(raw) else raw end, fmt);

-- "Active case on D" (DOMAIN.md "Precise semantics"), the one definition every stage uses (the
-- identification's active_cases, the volume guard, the exclusions): the status maps to active,
-- it started on or before d, and it has no end date or ends on or after d.
create or replace macro tg_active_on(active, start_date, end_date, d) as
    active and start_date <= d and (end_date is null or end_date >= d);

-- Age in whole years on date d.
create or replace macro tg_age(birth, d) as
    date_part('year', d) - date_part('year', birth)
    - case when strftime(d, '%m%d') < strftime(birth, '%m%d') then 1 else 0 end;

-- The distinct non-null values of a list, sorted and joined with sep (null when there are none):
-- the same as string_agg(distinct x, sep order by x) over list(x), without an ordered aggregate
-- (those sort per group and were the slowest part of the lists at national scale, issue 7).
create or replace macro tg_join_sorted(vals, sep) as
    nullif(array_to_string(list_sort(list_distinct(vals)), sep), '');

-- The privacy rules of targetgroup.privacy in SQL, for reasons built here (kept equal by
-- tests/test_privacy_rules.py). tg_scrub masks everything CPR-shaped (DDMMYY-SSSS with a dash,
-- a space or nothing, or 9 digits) that is not inside a longer run of letters or digits; each
-- pattern runs twice because a match uses up the character between two adjacent numbers.
create or replace macro tg_scrub(t) as
    regexp_replace(regexp_replace(
        regexp_replace(regexp_replace(t,
            '(^|[^0-9A-Za-z])([0-9]{6})[ -]?[0-9]{4}([^0-9A-Za-z]|$)', '\1\2-****\3', 'g'),
            '(^|[^0-9A-Za-z])([0-9]{6})[ -]?[0-9]{4}([^0-9A-Za-z]|$)', '\1\2-****\3', 'g'),
        '(^|[^0-9A-Za-z])([0-9]{5})[0-9]{4}([^0-9A-Za-z]|$)', '\10\2-****\3', 'g'),
        '(^|[^0-9A-Za-z])([0-9]{5})[0-9]{4}([^0-9A-Za-z]|$)', '\10\2-****\3', 'g');

-- A cell may be shown in a message only when it is a short code: at most 16 characters of
-- letters, digits and . _ / - (no spaces), at most 4 digits.
create or replace macro tg_shown(v) as
    coalesce(length(v) between 1 and 16
             and regexp_full_match(v, '[A-Za-z0-9ÆØÅæøåÄÖÜäöüÉé_./-]+')
             and length(regexp_replace(v, '[^0-9]', '', 'g')) <= 4, false);

-- The value quoted when it may be shown, else a note that it is not.
create or replace macro tg_describe(v) as
    case when tg_shown(v) then '''' || v || '''' else '(value not shown: it may be personal data)' end;
