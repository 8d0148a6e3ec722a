//! The weather around a runner's session: places found by name (Open-Meteo's geocoding API) and
//! hourly forecasts (Open-Meteo's forecast API; no key), cached in the store per ~1 km area and
//! hour so that every instance and every runner of an area share one request an hour.
//!
//! The weather is a bonus: every call has a short budget ([`WeatherConfig::timeout`]) and a
//! failure is an answer ([`WeatherError`]), never a delay or an error for the session itself.

use std::time::Duration;

use chrono::{DateTime, Duration as Days, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use serde::Deserialize;
use tracing::{instrument, warn};

use crate::domain::{Location, User};
use crate::i18n::Lang;
use crate::plan::Workout;
use crate::science::weather::{Advice, AdviceCode, HourWeather, advise, heat_slowdown_pct};
use crate::store::{Store, StoreError, StoreResult};

pub const OPEN_METEO_FORECAST: &str = "https://api.open-meteo.com/v1/forecast";
pub const OPEN_METEO_GEOCODING: &str = "https://geocoding-api.open-meteo.com/v1/search";

/// Where the weather comes from and how long it may take.
#[derive(Clone, Debug)]
pub struct WeatherConfig {
    pub forecast_url: String,
    pub geocoding_url: String,
    /// The whole budget of one request (connection included).
    pub timeout: Duration,
}

impl Default for WeatherConfig {
    fn default() -> Self {
        WeatherConfig {
            forecast_url: OPEN_METEO_FORECAST.to_owned(),
            geocoding_url: OPEN_METEO_GEOCODING.to_owned(),
            timeout: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WeatherError {
    #[error("the weather service could not be reached in time: {0}")]
    Unreachable(String),
    #[error("the weather service answered something unreadable: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A place found by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub name: String,
    pub region: Option<String>,
    pub country: Option<String>,
    pub location: Location,
}

impl Place {
    /// "Lyon (Auvergne-Rhône-Alpes, France)".
    #[must_use]
    pub fn label(&self) -> String {
        let rest: Vec<&str> = [self.region.as_deref(), self.country.as_deref()].into_iter().flatten().collect();
        if rest.is_empty() { self.name.clone() } else { format!("{} ({})", self.name, rest.join(", ")) }
    }
}

/// Open-Meteo's geocoding answer (`results` is absent when nothing matches).
#[derive(Deserialize)]
struct GeocodingAnswer {
    #[serde(default)]
    results: Vec<GeocodingResult>,
}

#[derive(Deserialize)]
struct GeocodingResult {
    name: String,
    latitude: f64,
    longitude: f64,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    admin1: Option<String>,
}

/// Open-Meteo's forecast answer: parallel hourly arrays, times in GMT ("2026-12-05T07:00").
#[derive(Deserialize)]
struct ForecastAnswer {
    hourly: Hourly,
}

#[derive(Deserialize)]
struct Hourly {
    time: Vec<String>,
    temperature_2m: Vec<Option<f64>>,
    apparent_temperature: Vec<Option<f64>>,
    #[serde(default)]
    relative_humidity_2m: Vec<Option<f64>>,
    #[serde(default)]
    precipitation_probability: Vec<Option<f64>>,
    #[serde(default)]
    precipitation: Vec<Option<f64>>,
    #[serde(default)]
    weather_code: Vec<Option<f64>>,
    wind_speed_10m: Vec<Option<f64>>,
    #[serde(default)]
    wind_gusts_10m: Vec<Option<f64>>,
}

const HOURLY: &str = "temperature_2m,apparent_temperature,relative_humidity_2m,precipitation_probability,\
precipitation,weather_code,wind_speed_10m,wind_gusts_10m";

fn hours(answer: ForecastAnswer) -> Result<Vec<HourWeather>, WeatherError> {
    let h = answer.hourly;
    let at = |v: &[Option<f64>], i: usize| v.get(i).copied().flatten().filter(|x| x.is_finite());
    let mut out = Vec::with_capacity(h.time.len());
    for (i, t) in h.time.iter().enumerate() {
        let time = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
            .map_err(|e| WeatherError::BadAnswer(format!("time {t:?}: {e}")))?
            .and_utc();
        // An hour without its temperature or wind is no forecast: skipped, not invented.
        let (Some(temperature_c), Some(feels_like_c), Some(wind_kmh)) =
            (at(&h.temperature_2m, i), at(&h.apparent_temperature, i), at(&h.wind_speed_10m, i))
        else {
            continue;
        };
        out.push(HourWeather {
            time,
            temperature_c,
            feels_like_c,
            humidity_pct: at(&h.relative_humidity_2m, i),
            wind_kmh,
            gusts_kmh: at(&h.wind_gusts_10m, i),
            precipitation_probability_pct: at(&h.precipitation_probability, i),
            precipitation_mm: at(&h.precipitation, i),
            code: at(&h.weather_code, i).map_or(0, |c| c.clamp(0.0, 99.0) as u16),
        });
    }
    if out.is_empty() {
        return Err(WeatherError::BadAnswer("no usable hour".into()));
    }
    Ok(out)
}

/// The forecast hour closest to `t` (within 90 minutes).
#[must_use]
pub fn hour_at(hours: &[HourWeather], t: DateTime<Utc>) -> Option<&HourWeather> {
    hours.iter().filter(|h| (h.time - t).num_minutes().abs() <= 90).min_by_key(|h| (h.time - t).num_minutes().abs())
}

#[derive(Debug)]
pub struct WeatherService {
    http: reqwest::Client,
    config: WeatherConfig,
}

impl WeatherService {
    pub fn new(config: WeatherConfig) -> Result<WeatherService, WeatherError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("runcoach/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| WeatherError::Unreachable(e.to_string()))?;
        Ok(WeatherService { http, config })
    }

    async fn get<T: for<'de> Deserialize<'de>>(&self, url: &str, query: &[(&str, String)]) -> Result<T, WeatherError> {
        let answer = self
            .http
            .get(url)
            .query(query)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| WeatherError::Unreachable(e.without_url().to_string()))?;
        let body = answer.bytes().await.map_err(|e| WeatherError::Unreachable(e.without_url().to_string()))?;
        serde_json::from_slice(&body).map_err(|e| WeatherError::BadAnswer(e.to_string()))
    }

    /// The best match for a place name (`None`: no such place).
    #[instrument(skip_all)]
    pub async fn geocode(&self, name: &str, lang: Lang) -> Result<Option<Place>, WeatherError> {
        let query = [
            ("name", name.trim().chars().take(100).collect::<String>()),
            ("count", "1".to_owned()),
            ("language", lang.code().to_owned()),
            ("format", "json".to_owned()),
        ];
        let answer: GeocodingAnswer = self.get(&self.config.geocoding_url, &query).await?;
        Ok(answer.results.into_iter().find_map(|r| {
            let location = Location::new(r.latitude, r.longitude, Some(&r.name)).ok()?;
            Some(Place { name: r.name, region: r.admin1, country: r.country, location })
        }))
    }

    /// The next two days, hour by hour, for `location`: from the store when an instance fetched
    /// this area within the current hour, else from the service (and kept for the others).
    #[instrument(skip_all, fields(area = %location.area()))]
    pub async fn forecast(
        &self,
        store: &dyn Store,
        location: &Location,
        now: DateTime<Utc>,
    ) -> Result<Vec<HourWeather>, WeatherError> {
        let hour = now.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(now);
        let area = location.area();
        if let Some(cached) = store.cached_forecast(&area, hour).await?
            && let Ok(hours) = serde_json::from_str::<Vec<HourWeather>>(&cached)
        {
            return Ok(hours);
        }
        let query = [
            ("latitude", format!("{:.2}", location.lat())),
            ("longitude", format!("{:.2}", location.lon())),
            ("hourly", HOURLY.to_owned()),
            ("forecast_days", "2".to_owned()),
            ("timezone", "GMT".to_owned()),
        ];
        let answer: ForecastAnswer = self.get(&self.config.forecast_url, &query).await?;
        let hours = hours(answer)?;
        if let Ok(json) = serde_json::to_string(&hours) {
            store.cache_forecast(&area, hour, &json).await?;
        }
        Ok(hours)
    }
}

/// The hour runners run when their history does not say.
pub const DEFAULT_HOUR: u32 = 8;

/// The local hour the runner started most of their runs of the last 90 days (the later one on a
/// tie), or [`DEFAULT_HOUR`].
pub async fn usual_hour(store: &dyn Store, user: &User, now: DateTime<Utc>) -> StoreResult<u32> {
    let tz = user.timezone.tz();
    let runs = store.activities(user.id, Some(now - Days::days(90))).await?;
    let mut counts = [0u32; 24];
    for r in &runs {
        let h = r.start_time.with_timezone(&tz).hour() as usize;
        if let Some(c) = counts.get_mut(h) {
            *c += 1;
        }
    }
    let best = counts.iter().enumerate().max_by_key(|(h, c)| (**c, *h)).filter(|(_, c)| **c > 0);
    Ok(best.map_or(DEFAULT_HOUR, |(h, _)| h as u32))
}

/// What the weather says about the day's session.
#[derive(Clone, Debug, PartialEq)]
pub enum WeatherNote {
    /// The runner has not said where they run.
    NoLocation,
    /// The weather service could not answer in time.
    Unavailable,
    Forecast {
        place: String,
        hour: HourWeather,
        advice: Vec<Advice>,
    },
}

impl WeatherNote {
    /// The codes of the advice given (for machines and tests).
    #[must_use]
    pub fn advice_codes(&self) -> Vec<AdviceCode> {
        match self {
            WeatherNote::Forecast { advice, .. } => advice.iter().map(|a| a.code).collect(),
            _ => Vec::new(),
        }
    }

    #[must_use]
    pub fn render(&self, lang: Lang, tz: chrono_tz::Tz) -> String {
        match self {
            WeatherNote::NoLocation => lang
                .pick(
                    "🌦️ Pour avoir la météo de ta séance : `/profile location Lyon` (ou envoie ta position sur Telegram).",
                    "🌦️ For your session's weather: `/profile location Lyon` (or send your location on Telegram).",
                )
                .to_owned(),
            WeatherNote::Unavailable => lang
                .pick(
                    "🌦️ Météo indisponible pour le moment : voici ta séance sans elle.",
                    "🌦️ The weather is unavailable right now: here is your session without it.",
                )
                .to_owned(),
            WeatherNote::Forecast { place, hour, advice } => {
                let at = tz.from_utc_datetime(&hour.time.naive_utc()).format("%H:%M");
                let head = match lang {
                    Lang::Fr => format!("🌦️ {place} à {at} : {}", hour.describe(lang)),
                    Lang::En => format!("🌦️ {place} at {at}: {}", hour.describe(lang)),
                };
                let mut out = head;
                for a in advice {
                    out.push('\n');
                    out.push_str(a.text.get(lang));
                }
                out
            }
        }
    }
}

/// The weather around the runner's usual hour on `day` and the advice for `session`. `None`
/// when the weather is off on this server.
pub async fn weather_note(
    weather: Option<&WeatherService>,
    store: &dyn Store,
    user: &User,
    session: Option<&Workout>,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<Option<WeatherNote>> {
    let Some(weather) = weather else { return Ok(None) };
    let Some(location) = user.location.as_ref() else { return Ok(Some(WeatherNote::NoLocation)) };
    let tz = user.timezone.tz();
    let hour = usual_hour(store, user, now).await?;
    let local = |h: u32| day.and_hms_opt(h, 0, 0).and_then(|t| tz.from_local_datetime(&t).earliest());
    // The hour already passed today: the next one.
    let at = local(hour).map_or(now, |t| t.with_timezone(&Utc).max(now));
    let hours = match weather.forecast(store, location, now).await {
        Ok(h) => h,
        Err(WeatherError::Store(e)) => return Err(e),
        Err(e) => {
            warn!(error = %e, "no weather for the session");
            return Ok(Some(WeatherNote::Unavailable));
        }
    };
    let Some(at_hour) = hour_at(&hours, at).cloned() else { return Ok(Some(WeatherNote::Unavailable)) };
    // In the heat, the coolest hour of the same morning (05:00–09:00) is worth saying.
    let cooler = if heat_slowdown_pct(at_hour.feels_like_c) > 0.0 {
        (5..=9)
            .filter_map(local)
            .filter_map(|t| hour_at(&hours, t.with_timezone(&Utc)))
            .filter(|h| h.time >= now && h.feels_like_c + 2.0 <= at_hour.feels_like_c)
            .min_by(|a, b| a.feels_like_c.total_cmp(&b.feels_like_c))
    } else {
        None
    };
    let advice = advise(
        &at_hour,
        session.is_some_and(|w| w.kind.is_hard()),
        session.and_then(|w| w.pace_s_per_km),
        cooler.map(|c| (tz.from_utc_datetime(&c.time.naive_utc()).time(), c.feels_like_c)),
    );
    Ok(Some(WeatherNote::Forecast { place: location.label(), hour: at_hour, advice }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_meteo_hours_are_read_and_gaps_skipped() {
        let answer: ForecastAnswer = serde_json::from_value(serde_json::json!({
            "latitude": 45.76, "longitude": 4.84, "timezone": "GMT",
            "hourly_units": {"temperature_2m": "°C"},
            "hourly": {
                "time": ["2026-07-14T06:00", "2026-07-14T07:00", "2026-07-14T08:00"],
                "temperature_2m": [21.3, null, 24.0],
                "apparent_temperature": [22.0, 23.0, 26.1],
                "relative_humidity_2m": [60, 55, 50],
                "precipitation_probability": [0, 0, 5],
                "precipitation": [0.0, 0.0, 0.0],
                "weather_code": [0, 1, 2],
                "wind_speed_10m": [5.0, 6.0, 7.2],
                "wind_gusts_10m": [9.0, 11.0, 14.0]
            }
        }))
        .unwrap();
        let h = hours(answer).unwrap();
        assert_eq!(h.len(), 2, "the hour without a temperature is skipped");
        assert_eq!(h[1].time.to_rfc3339(), "2026-07-14T08:00:00+00:00");
        assert_eq!((h[1].feels_like_c, h[1].code, h[1].gusts_kmh), (26.1, 2, Some(14.0)));
        let at = DateTime::parse_from_rfc3339("2026-07-14T07:50:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(hour_at(&h, at).map(|x| x.time.hour()), Some(8));
        let far = DateTime::parse_from_rfc3339("2026-07-15T07:50:00Z").unwrap().with_timezone(&Utc);
        assert!(hour_at(&h, far).is_none());
    }
}
