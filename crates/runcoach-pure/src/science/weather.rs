//! What the forecast changes for a session: how much slower in the heat, what to wear in the
//! cold, when ice, storms or wind call for another plan. The thresholds and their sources are in
//! the knowledge base (`heat-and-cold.md`, "Reading the forecast before a run").
//!
//! Forecasts give the felt ("apparent") temperature, which combines air temperature, humidity and
//! wind, but not the wet-bulb globe temperature (WBGT) the heat studies use; the felt temperature
//! stands in for it here, which makes the heat advice err on the side of caution.

use super::{Bilingual, PaceRange};
use crate::i18n::Lang;
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// The forecast for one hour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HourWeather {
    pub time: DateTime<Utc>,
    pub temperature_c: f64,
    pub feels_like_c: f64,
    pub humidity_pct: Option<f64>,
    pub wind_kmh: f64,
    pub gusts_kmh: Option<f64>,
    pub precipitation_probability_pct: Option<f64>,
    pub precipitation_mm: Option<f64>,
    /// WMO weather interpretation code (0 clear … 95–99 thunderstorm).
    pub code: u16,
}

impl HourWeather {
    /// Thunderstorm codes (WMO 95, 96, 99).
    #[must_use]
    pub fn is_storm(&self) -> bool {
        matches!(self.code, 95 | 96 | 99)
    }

    /// Freezing drizzle or rain (WMO 56, 57, 66, 67), or snow (71–77, 85, 86).
    #[must_use]
    pub fn is_icy(&self) -> bool {
        let freezing_or_snow = matches!(self.code, 56 | 57 | 66 | 67 | 71..=77 | 85 | 86);
        let wet_and_freezing = self.temperature_c <= 1.0 && self.precipitation_mm.unwrap_or(0.0) > 0.0;
        freezing_or_snow || wet_and_freezing
    }

    #[must_use]
    pub fn is_rainy(&self) -> bool {
        self.precipitation_probability_pct.unwrap_or(0.0) >= 60.0 || self.precipitation_mm.unwrap_or(0.0) >= 1.0
    }

    /// "12 °C (felt 9 °C), wind 20 km/h, rain 60 %".
    #[must_use]
    pub fn describe(&self, lang: Lang) -> String {
        let n = |x: f64| {
            let r = x.round();
            if r == 0.0 { 0 } else { r as i64 }
        };
        let mut out = match lang {
            Lang::Fr => format!(
                "{} °C (ressenti {} °C), vent {} km/h",
                n(self.temperature_c),
                n(self.feels_like_c),
                n(self.wind_kmh)
            ),
            Lang::En => format!(
                "{} °C (feels like {} °C), wind {} km/h",
                n(self.temperature_c),
                n(self.feels_like_c),
                n(self.wind_kmh)
            ),
        };
        if let Some(g) = self.gusts_kmh.filter(|g| *g >= self.wind_kmh + 15.0) {
            out.push_str(&match lang {
                Lang::Fr => format!(" (rafales {} km/h)", n(g)),
                Lang::En => format!(" (gusts {} km/h)", n(g)),
            });
        }
        if let Some(p) = self.precipitation_probability_pct {
            out.push_str(&match lang {
                Lang::Fr => format!(", pluie {} %", n(p)),
                Lang::En => format!(", rain {} %", n(p)),
            });
        }
        out
    }
}

/// Percent slower at the same effort for a felt temperature: none up to 15 °C, then 0.4 % per
/// degree to 25 °C and 0.6 % per degree beyond, capped at 10 %. Ely et al. (2007) measured about
/// 3 % between WBGT 5–10 and 20–25 °C for the fastest marathoners, and more for slower runners;
/// the slope here is about twice theirs, for recreational runners.
#[must_use]
pub fn heat_slowdown_pct(feels_like_c: f64) -> f64 {
    if !feels_like_c.is_finite() || feels_like_c <= 15.0 {
        return 0.0;
    }
    let pct = if feels_like_c <= 25.0 { 0.4 * (feels_like_c - 15.0) } else { 4.0 + 0.6 * (feels_like_c - 25.0) };
    (pct * 10.0).round().min(100.0) / 10.0
}

/// Felt temperature from which hard sessions become easy runs (the ACSM's 28 °C WBGT, with the
/// felt temperature standing in for it).
pub const HARD_SESSION_LIMIT_C: f64 = 28.0;
/// Felt temperature at or below which exposed skin can freeze within 30 minutes (Castellani 2006).
pub const FROSTBITE_C: f64 = -27.0;
/// Gusts from which the wind changes the session.
pub const STRONG_GUSTS_KMH: f64 = 50.0;

/// What a piece of advice is about (stable, for tests and machines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdviceCode {
    Storm,
    Heat,
    TooHotForQuality,
    Cold,
    Frostbite,
    Ice,
    Wind,
    Rain,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub code: AdviceCode,
    pub text: Bilingual,
}

fn advice(code: AdviceCode, fr: String, en: String) -> Advice {
    Advice { code, text: Bilingual { fr, en } }
}

/// The advice for a session at `at`: `hard` for a quality session, `pace` the session's pace band
/// when it has one (the heat advice then says the slower band), `cooler` a cooler hour of the
/// same morning to suggest (local time, felt temperature).
#[must_use]
pub fn advise(at: &HourWeather, hard: bool, pace: Option<PaceRange>, cooler: Option<(NaiveTime, f64)>) -> Vec<Advice> {
    let mut out = Vec::new();
    if at.is_storm() {
        out.push(advice(
            AdviceCode::Storm,
            "⛈️ Orage prévu : décale la séance à un autre moment de la journée ou cours en salle (tapis). Jamais de course sous l'orage.".into(),
            "⛈️ Thunderstorm forecast: move the session to another time of day or run indoors (treadmill). Never run in a thunderstorm.".into(),
        ));
    }
    let slower = heat_slowdown_pct(at.feels_like_c);
    if slower > 0.0 {
        let band = pace.map(|p| {
            let f = 1.0 + slower / 100.0;
            format!(
                "{}–{}",
                super::Pace::new(p.min.s_per_km() * f).map(|x| x.rounded().to_string()).unwrap_or_default(),
                super::Pace::new(p.max.s_per_km() * f).map(|x| format!("{} /km", x.rounded())).unwrap_or_default()
            )
        });
        let (bfr, ben) = band.map_or((String::new(), String::new()), |b| (format!(" (≈ {b})"), format!(" (≈ {b})")));
        let (efr, een) = match cooler {
            Some((t, felt)) => (
                format!(" Plus frais à {} (ressenti {felt:.0} °C) : cours tôt si tu peux.", t.format("%H:%M")),
                format!(" Cooler at {} (feels like {felt:.0} °C): run early if you can.", t.format("%H:%M")),
            ),
            None => (" Cours tôt le matin si tu peux.".into(), " Run early in the morning if you can.".into()),
        };
        out.push(advice(
            AdviceCode::Heat,
            format!("🌡️ Chaleur : ralentis d'environ {slower:.0} % à effort égal{bfr}, cours à l'effort ou au cardio plutôt qu'à l'allure, bois et cherche l'ombre.{efr}"),
            format!("🌡️ Heat: slow down by about {slower:.0} % for the same effort{ben}, run by effort or heart rate rather than pace, drink and seek shade.{een}"),
        ));
        if hard && at.feels_like_c >= HARD_SESSION_LIMIT_C {
            out.push(advice(
                AdviceCode::TooHotForQuality,
                format!("Au-delà de {HARD_SESSION_LIMIT_C:.0} °C ressentis, remplace la séance dure par un footing facile, ou fais-la au frais (tapis, tôt le matin)."),
                format!("Above {HARD_SESSION_LIMIT_C:.0} °C felt, swap the hard session for an easy run, or do it somewhere cool (treadmill, early morning)."),
            ));
        }
    }
    if at.feels_like_c <= FROSTBITE_C {
        out.push(advice(
            AdviceCode::Frostbite,
            "🥶 Froid extrême : la peau exposée peut geler en moins de 30 min. Couvre visage et mains, raccourcis la sortie ou cours en salle.".into(),
            "🥶 Extreme cold: exposed skin can freeze in under 30 min. Cover face and hands, shorten the run or go indoors.".into(),
        ));
    } else if at.feels_like_c <= 5.0 {
        out.push(advice(
            AdviceCode::Cold,
            "🧤 Froid : habille-toi comme s'il faisait 10 °C de plus (couches respirantes, coupe-vent), bonnet et gants ; échauffe-toi plus longtemps et commence face au vent.".into(),
            "🧤 Cold: dress as if it were 10 °C warmer (wicking layers, windproof top), hat and gloves; warm up longer and start into the wind.".into(),
        ));
    }
    if at.is_icy() {
        let (fr, en) = if hard {
            (
                "Séance de qualité : sur tapis ou piste dégagée, pas sur la glace.",
                "Quality session: on a treadmill or a cleared track, not on ice.",
            )
        } else {
            ("", "")
        };
        out.push(advice(
            AdviceCode::Ice,
            format!(
                "🧊 Risque de verglas ou de neige : foulée courte, allure lente, routes dégagées et éclairées. {fr}"
            )
            .trim_end()
            .to_owned(),
            format!("🧊 Ice or snow likely: short strides, slow pace, gritted and lit routes. {en}")
                .trim_end()
                .to_owned(),
        ));
    }
    if at.gusts_kmh.unwrap_or(at.wind_kmh).max(at.wind_kmh) >= STRONG_GUSTS_KMH {
        out.push(advice(
            AdviceCode::Wind,
            "💨 Vent fort : cours à l'effort (l'allure n'a plus de sens face au vent), choisis un parcours abrité, pars face au vent pour rentrer vent dans le dos.".into(),
            "💨 Strong wind: run by effort (pace means little into the wind), pick a sheltered route, start into the wind so it is behind you on the way home.".into(),
        ));
    }
    if at.is_rainy() && !at.is_storm() {
        out.push(advice(
            AdviceCode::Rain,
            "🌧️ Pluie probable : casquette, vêtements qui sèchent vite, et des habits secs pour après.".into(),
            "🌧️ Rain likely: a cap, quick-drying kit, and dry clothes for afterwards.".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::science::Pace;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn hour(t: f64, felt: f64, wind: f64, code: u16) -> HourWeather {
        HourWeather {
            time: Utc.with_ymd_and_hms(2026, 7, 14, 16, 0, 0).unwrap(),
            temperature_c: t,
            feels_like_c: felt,
            humidity_pct: Some(50.0),
            wind_kmh: wind,
            gusts_kmh: None,
            precipitation_probability_pct: Some(10.0),
            precipitation_mm: Some(0.0),
            code,
        }
    }

    fn codes(a: &[Advice]) -> Vec<AdviceCode> {
        a.iter().map(|x| x.code).collect()
    }

    #[test]
    fn heat_slows_by_a_stated_amount_and_hard_sessions_give_way() {
        assert_eq!(heat_slowdown_pct(12.0), 0.0);
        assert_eq!(heat_slowdown_pct(20.0), 2.0);
        assert_eq!(heat_slowdown_pct(25.0), 4.0);
        assert_eq!(heat_slowdown_pct(30.0), 7.0);
        assert_eq!(heat_slowdown_pct(45.0), 10.0);
        let band = PaceRange::new(Pace::new(300.0).unwrap(), Pace::new(310.0).unwrap());
        let hot = advise(&hour(31.0, 33.0, 5.0, 0), true, Some(band), None);
        assert_eq!(codes(&hot), vec![AdviceCode::Heat, AdviceCode::TooHotForQuality]);
        // 33 °C felt: 8.8 % slower than 5:00–5:10 is 5:26–5:37.
        assert_eq!(heat_slowdown_pct(33.0), 8.8);
        assert!(hot[0].text.en.contains("about 9 %") && hot[0].text.en.contains("5:26–5:37 /km"), "{}", hot[0].text.en);
        assert!(hot[0].text.fr.contains("environ 9 %"), "{}", hot[0].text.fr);
        let warm_easy = advise(&hour(24.0, 26.0, 5.0, 0), false, None, None);
        assert_eq!(codes(&warm_easy), vec![AdviceCode::Heat]);
        assert!(advise(&hour(14.0, 13.0, 10.0, 1), true, None, None).is_empty(), "a mild day needs no advice");
    }

    #[test]
    fn cold_ice_storm_wind_and_rain_each_say_what_to_do() {
        assert_eq!(codes(&advise(&hour(2.0, -2.0, 10.0, 3), false, None, None)), vec![AdviceCode::Cold]);
        assert_eq!(codes(&advise(&hour(-20.0, -31.0, 20.0, 0), false, None, None)), vec![AdviceCode::Frostbite]);
        let snow = advise(&hour(-1.0, -5.0, 10.0, 73), true, None, None);
        assert_eq!(codes(&snow), vec![AdviceCode::Cold, AdviceCode::Ice]);
        assert!(snow[1].text.en.contains("treadmill"), "{}", snow[1].text.en);
        let mut storm = hour(22.0, 22.0, 30.0, 95);
        storm.precipitation_probability_pct = Some(90.0);
        let s = advise(&storm, false, None, None);
        assert_eq!(codes(&s), vec![AdviceCode::Storm, AdviceCode::Heat]);
        assert!(s[0].text.fr.contains("en salle"));
        let mut windy = hour(12.0, 9.0, 30.0, 3);
        windy.gusts_kmh = Some(65.0);
        assert_eq!(codes(&advise(&windy, false, None, None)), vec![AdviceCode::Wind]);
        let mut wet = hour(12.0, 11.0, 10.0, 61);
        wet.precipitation_probability_pct = Some(80.0);
        assert_eq!(codes(&advise(&wet, false, None, None)), vec![AdviceCode::Rain]);
        assert_eq!(wet.describe(Lang::En), "12 °C (feels like 11 °C), wind 10 km/h, rain 80 %");
        assert_eq!(hour(-0.2, -0.4, 3.0, 0).describe(Lang::Fr), "0 °C (ressenti 0 °C), vent 3 km/h, pluie 10 %");
    }

    proptest! {
        #[test]
        fn hotter_is_never_faster(a in -40.0f64..50.0, b in -40.0f64..50.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(heat_slowdown_pct(lo) <= heat_slowdown_pct(hi));
            prop_assert!((0.0..=10.0).contains(&heat_slowdown_pct(hi)));
        }
    }
}
