-- The flag register's persistent tables. `{db}` is `wh` (the warehouse, in the commit) or
-- `reg` (an in-memory copy the register stage works on). Keys are checked by tests, not by
-- constraints (DuckDB's index checks trip over update-then-insert inside one transaction).

-- flags: one row per subject (citizen or family) per rule per validity period (SCD type 2).
-- A flag is one continuous episode of a subject in a rule: its versions share flag_id and count
-- up in `version`; a changed basis (members, departments) closes the version (status
-- 'superseded') and opens version + 1 on the same date. An ended flag is never reopened: a
-- subject flagged again later gets a new flag_id.
create table if not exists {db}.flags (
    flag_id varchar not null,
    version integer not null,
    rule_id varchar not null,
    subject_type varchar not null,
    subject_id varchar not null,
    family_id varchar,
    members varchar[] not null,
    departments varchar[] not null,
    case_keys varchar[] not null,
    reason_codes varchar[] not null,
    notify_departments varchar[] not null,
    status varchar not null,
    valid_from date not null,
    valid_to date,
    opened_run varchar not null,
    closed_run varchar,
    change varchar not null,
    end_reason varchar
);

-- flag_member_ends: one row per member who left a family flag that went on, with that
-- member's own end reason (died, moved away, turned 18, case in <DEPT> closed, ...). The flag's
-- version that still held the member is `version`; `ended_on` is the as-of date of the run.
create table if not exists {db}.flag_member_ends (
    flag_id varchar not null,
    version integer not null,
    rule_id varchar not null,
    cpr varchar not null,
    ended_on date not null,
    run_id varchar not null,
    end_reason varchar not null
);

-- markings: one row per case system per citizen per validity period of the coordinated-course
-- marking the register expects that system to hold. `start_date` is the marking's start (kept
-- across versions); a new version opens when the departments or rules behind it change.
create table if not exists {db}.markings (
    system varchar not null,
    cpr varchar not null,
    marking_code varchar not null,
    start_date date not null,
    rule_ids varchar[] not null,
    flag_ids varchar[] not null,
    departments varchar[] not null,
    reason varchar not null,
    status varchar not null,
    valid_from date not null,
    valid_to date,
    opened_run varchar not null,
    closed_run varchar,
    end_reason varchar
);

-- actions: one row per action (create | update | end) per case system per citizen per run.
create table if not exists {db}.actions (
    run_id varchar not null,
    as_of date not null,
    system varchar not null,
    action varchar not null,
    cpr varchar not null,
    marking_code varchar not null,
    start_date date not null,
    end_date date,
    reason varchar not null,
    rule_ids varchar[] not null,
    flag_ids varchar[] not null
);

-- suppressions: one row per caseworker removal of a subject from a rule.
create table if not exists {db}.suppressions (
    suppression_id varchar not null,
    rule_id varchar not null,
    cpr varchar not null,
    subject_type varchar,
    subject_id varchar,
    departments varchar[] not null,
    removed_by varchar not null,
    removed_in_department varchar,
    reason varchar not null,
    until date,
    created_at timestamp not null,
    origin varchar not null,
    lifted_at timestamp,
    lifted_by varchar,
    ended_run varchar,
    ended_as_of date,
    ended_reason varchar
);

-- last_active_cases: one row per active case of the last committed run (for "a case in
-- another department closed since the last run").
create table if not exists {db}.last_active_cases (
    run_id varchar not null,
    as_of date not null,
    source varchar not null,
    department varchar not null,
    system varchar not null,
    cpr varchar not null,
    case_id varchar not null,
    caseworker varchar,
    team varchar
);

-- register_runs: one row per committed run: what the register did.
create table if not exists {db}.register_runs (
    run_id varchar not null,
    as_of date not null,
    flags_new integer not null,
    flags_continuing integer not null,
    flags_updated integer not null,
    flags_ended integer not null,
    actions integer not null,
    rewound_from date
);

-- flags_rewound, markings_rewound: rows as they were before a --rebuild rewound them,
-- with the run that rewound them (nothing is changed without a trace).
create table if not exists {db}.flags_rewound as
    select ''::varchar as rewound_by_run, * from {db}.flags limit 0;

create table if not exists {db}.flag_member_ends_rewound as
    select ''::varchar as rewound_by_run, * from {db}.flag_member_ends limit 0;

create table if not exists {db}.markings_rewound as
    select ''::varchar as rewound_by_run, * from {db}.markings limit 0;
