-- A date typed by a caseworker in a removal file: YYYY-MM-DD or DD-MM-YYYY.
create or replace macro tg_until(raw) as
    coalesce(try_strptime(raw, '%Y-%m-%d'), try_strptime(raw, '%d-%m-%Y'))::date;
