-- Promises keep the day they were made for, and goals say what they count.
--
-- commitments.zone: the zone whose day a promise is due at the end of. A promise made for
-- Friday stays Friday there, whatever zone its member moves to later. Existing promises get
-- their member's zone as it is now, or none (then they read in the member's zone, as before).
ALTER TABLE commitments ADD COLUMN zone TEXT;
UPDATE commitments SET zone = (SELECT m.timezone FROM members m
                               WHERE m.community_id = commitments.community_id
                               AND m.member_id = commitments.member_id);

-- commitments.channel_id: where the promise was made, so that the group hears how it went
-- when it is resolved somewhere else (a follow-up DM). None for existing promises.
ALTER TABLE commitments ADD COLUMN channel_id TEXT;

-- goals.counts_from: the moment from which a goal counts no's (the start of the day it was
-- set, an earlier day, or the very first ask). Existing goals counted from when they were set.
ALTER TABLE goals ADD COLUMN counts_from TEXT;
UPDATE goals SET counts_from = set_at;
