-- What the processes of a sharded bot agree on through the database, so that running more
-- of them never breaks a platform's rules.
--
-- identify_slots: when the latest session start (a Discord IDENTIFY) of each rate-limit bucket
-- was booked. A process books the next slot, at least the platform's interval after it, in
-- one transaction, and waits until its slot comes before it identifies.
CREATE TABLE identify_slots (
    bucket     TEXT PRIMARY KEY,
    slot_at    TEXT NOT NULL
);

-- sync_claims: who is syncing a platform's commands right now, and which catalogue (its hash),
-- until when. The hash of the catalogue last synced stays in kv, as before. A claim that lapsed
-- (its process died) can be taken again.
CREATE TABLE sync_claims (
    key          TEXT PRIMARY KEY,
    digest       TEXT NOT NULL,
    owner        TEXT NOT NULL,
    lease_until  TEXT NOT NULL
);
