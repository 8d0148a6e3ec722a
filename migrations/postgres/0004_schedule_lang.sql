-- The language a schedule's messages are written in: a club digest speaks the language of the
-- admin who chose its channel (a channel has no language of its own). NULL: the runner's own
-- language (weekly summaries) or English.
ALTER TABLE schedules ADD COLUMN lang TEXT;
