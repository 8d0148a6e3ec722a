-- The active plan as it was before the last automatic adaptation (a missed key session, /skip,
-- /unwell), so the runner can keep it: one per plan, taken when used.
ALTER TABLE plans ADD COLUMN plan_as_it_was TEXT;
ALTER TABLE plans ADD COLUMN adapted_at TEXT;
