-- schedules.community_name: what the platform calls the community (the Discord server's name,
-- the Slack workspace's), stored by /checkin set for the weekly recap's heading and chart.
-- NULL where the platform said nothing (the terminal, schedules set before this version).
ALTER TABLE schedules ADD COLUMN community_name TEXT;
