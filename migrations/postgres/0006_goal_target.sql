-- A goal's size: a race goal's distance or a volume goal's kilometres (kind 'race' or 'volume').
ALTER TABLE goals ADD COLUMN target_km DOUBLE PRECISION;
-- Read back as the f64 it was written from (REAL is 4 bytes on PostgreSQL).
ALTER TABLE goals ALTER COLUMN target_time_s TYPE DOUBLE PRECISION;
