-- Rewind the register in `{db}` to the state before the night $as_of (for --rebuild): every
-- row opened on or after $as_of is withdrawn, every row closed on or after $as_of is open
-- again. The rows as they were are copied to *_rewound first, with the run that rewound them.

insert into {db}.flags_rewound
select $run_id, * from {db}.flags where valid_from >= $as_of or valid_to >= $as_of;

delete from {db}.flags where valid_from >= $as_of;

update {db}.flags
set status = 'open', valid_to = null, closed_run = null, end_reason = null
where valid_to >= $as_of;

insert into {db}.flag_member_ends_rewound
select $run_id, * from {db}.flag_member_ends where ended_on >= $as_of;

delete from {db}.flag_member_ends where ended_on >= $as_of;

insert into {db}.markings_rewound
select $run_id, * from {db}.markings where valid_from >= $as_of or valid_to >= $as_of;

delete from {db}.markings where valid_from >= $as_of;

update {db}.markings
set status = 'open', valid_to = null, closed_run = null, end_reason = null
where valid_to >= $as_of;

-- a removal that ended (expired, overridden) in a rewound night is live again
update {db}.suppressions
set ended_run = null, ended_as_of = null, ended_reason = null
where ended_as_of >= $as_of;
