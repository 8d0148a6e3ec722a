-- A goal's size: a race goal's distance or a volume goal's kilometres (kind 'race' or 'volume').
ALTER TABLE goals ADD COLUMN target_km REAL;
