-- Where a runner runs (rounded to 0.01°, about 1 km, before it is stored) and the hour of
-- their morning reminder is a schedule (schedules table).
ALTER TABLE users ADD COLUMN location_lat REAL;
ALTER TABLE users ADD COLUMN location_lon REAL;
ALTER TABLE users ADD COLUMN location_name TEXT;

-- Forecasts fetched from the weather service, per ~1 km area and the UTC hour they were
-- fetched in: every runner of an area and every instance share one fetch an hour.
CREATE TABLE weather_forecasts (
    area          TEXT NOT NULL,
    fetched_hour  TEXT NOT NULL,
    payload       TEXT NOT NULL,
    PRIMARY KEY (area, fetched_hour)
);
CREATE INDEX weather_forecasts_hour ON weather_forecasts(fetched_hour);
