-- The same as 0011_community_name.sql (see there why), with text compared byte by byte as
-- SQLite does.
ALTER TABLE schedules ADD COLUMN community_name TEXT COLLATE "C";
