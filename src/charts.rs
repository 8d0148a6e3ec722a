//! Charts as PNG, drawn with plotters' bitmap backend: what every chart shares (the shipped font,
//! the PNG encoding) and one activity's chart (pace and heart rate along the distance from its
//! samples, or a bar per lap when there are none). The weekly summary's chart is in `summary`.
//! Text uses a DejaVu Sans subset shipped in `summary/fonts/` (through ab_glyph), so no system
//! font or fontconfig is needed.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use chrono::NaiveDate;

use crate::domain::Units;
use crate::domain::activity::NewLap;
use crate::domain::samples::SamplePoint;
use crate::i18n::{Lang, number};
use crate::science::FitnessState;

/// Latin-1 subset of DejaVu Sans (see `summary/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("summary/fonts/DejaVuSans-Latin.ttf");
pub const FAMILY: &str = "sans-serif";
pub const INK: RGBColor = RGBColor(40, 40, 40);
const PACE: RGBColor = RGBColor(66, 133, 204);
const HEART: RGBColor = RGBColor(214, 69, 65);

pub const ACTIVITY_WIDTH: u32 = 800;
pub const ACTIVITY_HEIGHT: u32 = 480;
/// Points drawn at most: a marathon at 1 Hz is 15,000; the picture needs a few hundred.
const MAX_POINTS: usize = 600;

#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(String);

pub fn font_ready() -> Result<(), ChartError> {
    static READY: OnceLock<bool> = OnceLock::new();
    let ok = *READY.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, FONT).is_ok() && register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError("the shipped font does not load".into())) }
}

pub fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError(e.to_string())
}

/// Draws on a white `w`×`h` canvas with `draw`, then encodes it as PNG.
pub fn png(w: u32, h: u32, draw: impl FnOnce(&mut [u8]) -> Result<(), ChartError>) -> Result<Vec<u8>, ChartError> {
    font_ready()?;
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    draw(&mut rgb)?;
    let mut png_bytes = Vec::with_capacity(32 * 1024);
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(&rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(png_bytes)
}

/// Pace in minutes per km from a speed; standing still and sprints are clipped to what a chart
/// of a run can show (2:30 to 12:00).
fn pace_min(speed_mps: f64) -> Option<f64> {
    (speed_mps > 0.3).then(|| (1000.0 / speed_mps / 60.0).clamp(2.5, 12.0))
}

/// `(km, pace min/km, hr)` along the run, at most [`MAX_POINTS`], each pace smoothed over its
/// neighbours (GPS speed is noisy second to second).
fn series(points: &[SamplePoint]) -> Vec<(f64, Option<f64>, Option<f64>)> {
    let usable: Vec<&SamplePoint> = points.iter().filter(|p| p.distance_m.is_some()).collect();
    if usable.len() < 2 {
        return Vec::new();
    }
    let step = usable.len().div_ceil(MAX_POINTS).max(1);
    usable
        .chunks(step)
        .filter_map(|chunk| {
            let last = chunk.last()?;
            let km = f64::from(last.distance_m?) / 1000.0;
            let speeds: Vec<f64> = chunk.iter().filter_map(|p| p.speed_mps).map(f64::from).collect();
            let speed = (!speeds.is_empty()).then(|| speeds.iter().sum::<f64>() / speeds.len() as f64);
            let hrs: Vec<f64> = chunk.iter().filter_map(|p| p.hr).map(f64::from).collect();
            let hr = (!hrs.is_empty()).then(|| hrs.iter().sum::<f64>() / hrs.len() as f64);
            Some((km, speed.and_then(pace_min), hr))
        })
        .collect()
}

/// An activity's chart: pace (top) and heart rate (bottom) along the distance from its samples;
/// without usable samples, one bar per lap (its pace). Distances and paces in the runner's
/// `units`. `None` when there is nothing to draw.
pub fn activity_png(
    points: &[SamplePoint],
    laps: &[NewLap],
    lang: Lang,
    units: Units,
) -> Result<Option<Vec<u8>>, ChartError> {
    // Minutes per km to minutes per the runner's unit.
    let per_unit = units.from_km(1.0).recip();
    let along: Vec<_> =
        series(points).into_iter().map(|(km, pace, hr)| (units.from_km(km), pace.map(|p| p * per_unit), hr)).collect();
    if along.iter().any(|(_, pace, _)| pace.is_some()) {
        return png(ACTIVITY_WIDTH, ACTIVITY_HEIGHT, |rgb| draw_along(&along, lang, units, rgb)).map(Some);
    }
    let lap_paces: Vec<f64> = laps
        .iter()
        .filter_map(|l| l.distance_m.filter(|d| *d > 50.0).and_then(|d| pace_min(d / l.duration_s.max(1.0))))
        .map(|p| p * per_unit)
        .collect();
    if lap_paces.is_empty() {
        return Ok(None);
    }
    png(ACTIVITY_WIDTH, ACTIVITY_HEIGHT, |rgb| draw_laps(&lap_paces, lang, units, rgb)).map(Some)
}

fn pace_label(minutes: f64) -> String {
    let total = (minutes * 60.0).round() as i64;
    format!("{}:{:02}", total / 60, total % 60)
}

fn draw_along(
    along: &[(f64, Option<f64>, Option<f64>)],
    lang: Lang,
    units: Units,
    rgb: &mut [u8],
) -> Result<(), ChartError> {
    let unit = units.distance_unit();
    let root = BitMapBackend::with_buffer(rgb, (ACTIVITY_WIDTH, ACTIVITY_HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let km_max = along.last().map_or(1.0, |p| p.0).max(0.1);
    let has_hr = along.iter().any(|p| p.2.is_some());
    let (top, bottom) =
        if has_hr { root.split_vertically(ACTIVITY_HEIGHT * 3 / 5) } else { (root.clone(), root.clone()) };
    let paces: Vec<f64> = along.iter().filter_map(|p| p.1).collect();
    let slowest = paces.iter().copied().fold(f64::MIN, f64::max) + 0.25;
    let fastest = (paces.iter().copied().fold(f64::MAX, f64::min) - 0.25).max(2.0);
    // Faster is higher: the pace axis runs from the slowest (bottom) to the fastest (top).
    let mut chart = ChartBuilder::on(&top)
        .caption(format!("{} (min/{unit})", lang.pick("Allure", "Pace")), (FAMILY, 18).into_font().color(&INK))
        .margin(10)
        .x_label_area_size(if has_hr { 0 } else { 30 })
        .y_label_area_size(52)
        .build_cartesian_2d(0f64..km_max, slowest..fastest)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .y_label_formatter(&|v: &f64| pace_label(*v))
        .x_label_formatter(&|v: &f64| number(lang, *v, 1))
        .label_style((FAMILY, 13).into_font().color(&INK))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(along.iter().filter_map(|p| p.1.map(|pace| (p.0, pace))), PACE.stroke_width(2)))
        .map_err(err)?;
    if has_hr {
        let hrs: Vec<f64> = along.iter().filter_map(|p| p.2).collect();
        let low = hrs.iter().copied().fold(f64::MAX, f64::min) - 5.0;
        let high = hrs.iter().copied().fold(f64::MIN, f64::max) + 5.0;
        let mut chart = ChartBuilder::on(&bottom)
            .caption(lang.pick("Fréquence cardiaque (bpm)", "Heart rate (bpm)"), (FAMILY, 18).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..km_max, low..high)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_desc(unit)
            .x_label_formatter(&|v: &f64| number(lang, *v, 1))
            .y_label_formatter(&|v: &f64| number(lang, *v, 0))
            .label_style((FAMILY, 13).into_font().color(&INK))
            .axis_desc_style((FAMILY, 13).into_font().color(&INK))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(along.iter().filter_map(|p| p.2.map(|hr| (p.0, hr))), HEART.stroke_width(2)))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

fn draw_laps(paces: &[f64], lang: Lang, units: Units, rgb: &mut [u8]) -> Result<(), ChartError> {
    let unit = units.distance_unit();
    let root = BitMapBackend::with_buffer(rgb, (ACTIVITY_WIDTH, ACTIVITY_HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = u32::try_from(paces.len()).unwrap_or(1).max(1);
    let slowest = paces.iter().copied().fold(f64::MIN, f64::max) + 0.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} (min/{unit})", lang.pick("Allure par tour", "Pace per lap")),
            (FAMILY, 20).into_font().color(&INK),
        )
        .margin(14)
        .x_label_area_size(30)
        .y_label_area_size(52)
        .build_cartesian_2d((1u32..n).into_segmented(), 0f64..slowest)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .y_label_formatter(&|v: &f64| pace_label(*v))
        .label_style((FAMILY, 13).into_font().color(&INK))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(paces.iter().enumerate().map(|(i, p)| {
            let i = u32::try_from(i).unwrap_or(0) + 1;
            let mut r = Rectangle::new(
                [
                    (plotters::coord::ranged1d::SegmentValue::Exact(i), 0.0),
                    (plotters::coord::ranged1d::SegmentValue::Exact(i + 1), *p),
                ],
                PACE.filled(),
            );
            r.set_margin(0, 0, 6, 6);
            r
        }))
        .map_err(err)?;
    root.present().map_err(err)
}

pub const FORM_WIDTH: u32 = 800;
pub const FORM_HEIGHT: u32 = 420;
const FITNESS: RGBColor = RGBColor(66, 133, 204);
const FATIGUE: RGBColor = RGBColor(214, 69, 65);
const FORM: RGBColor = RGBColor(90, 160, 90);

/// The form chart of `/stats`: fitness (CTL), fatigue (ATL) and form (TSB) day by day. `None`
/// when there are fewer than two days or no load at all to show.
pub fn form_png(days: &[(NaiveDate, FitnessState)], lang: Lang) -> Result<Option<Vec<u8>>, ChartError> {
    let finite = |f: &FitnessState| f.ctl.is_finite() && f.atl.is_finite() && f.tsb.is_finite();
    let days: Vec<(NaiveDate, FitnessState)> = days.iter().copied().filter(|(_, f)| finite(f)).collect();
    let peak = days.iter().map(|(_, f)| f.ctl.max(f.atl)).fold(0.0, f64::max);
    if days.len() < 2 || peak < 1.0 {
        return Ok(None);
    }
    png(FORM_WIDTH, FORM_HEIGHT, |rgb| draw_form(&days, lang, rgb)).map(Some)
}

fn draw_form(days: &[(NaiveDate, FitnessState)], lang: Lang, rgb: &mut [u8]) -> Result<(), ChartError> {
    let root = BitMapBackend::with_buffer(rgb, (FORM_WIDTH, FORM_HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (first, last) = match (days.first(), days.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => return Ok(()),
    };
    let high = days.iter().map(|(_, f)| f.ctl.max(f.atl).max(f.tsb)).fold(0.0, f64::max) * 1.1 + 1.0;
    let low = days.iter().map(|(_, f)| f.tsb).fold(0.0, f64::min) * 1.1 - 1.0;
    let x = |d: NaiveDate| (d - first).num_days() as f64;
    let span = x(last).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.pick("Forme sur 12 semaines", "Form over 12 weeks"), (FAMILY, 20).into_font().color(&INK))
        .margin(14)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..span, low..high)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(7)
        .x_label_formatter(&|v: &f64| {
            let d = first + chrono::Duration::days(v.round() as i64);
            crate::i18n::date_short(lang, d)
        })
        .y_label_formatter(&|v: &f64| number(lang, *v, 0))
        .label_style((FAMILY, 12).into_font().color(&INK))
        .draw()
        .map_err(err)?;
    let line = |pick: fn(&FitnessState) -> f64| days.iter().map(move |(d, f)| (x(*d), pick(f)));
    let legend = |c: RGBColor| move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3));
    chart
        .draw_series(LineSeries::new(line(|f| f.ctl), FITNESS.stroke_width(3)))
        .map_err(err)?
        .label(lang.pick("Condition (CTL)", "Fitness (CTL)"))
        .legend(legend(FITNESS));
    chart
        .draw_series(LineSeries::new(line(|f| f.atl), FATIGUE.stroke_width(2)))
        .map_err(err)?
        .label(lang.pick("Fatigue (ATL)", "Fatigue (ATL)"))
        .legend(legend(FATIGUE));
    chart
        .draw_series(LineSeries::new(line(|f| f.tsb), FORM.stroke_width(2)))
        .map_err(err)?
        .label(lang.pick("Forme (TSB)", "Form (TSB)"))
        .legend(legend(FORM));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, 13).into_font().color(&INK))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_chart_is_a_png_from_samples_or_laps() {
        let points: Vec<SamplePoint> = (0..3600)
            .map(|i| SamplePoint {
                t_ms: i * 1000,
                hr: Some(140 + (i % 20) as u8),
                speed_mps: Some(3.0 + (i % 7) as f32 * 0.05),
                distance_m: Some(i as f32 * 3.1),
                ..SamplePoint::default()
            })
            .collect();
        let png = activity_png(&points, &[], Lang::En, Units::Metric).unwrap().unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let lap = |d: f64, s: f64| NewLap { duration_s: s, distance_m: Some(d), ..NewLap::default() };
        let laps =
            activity_png(&[], &[lap(1000.0, 300.0), lap(1000.0, 290.0)], Lang::Fr, Units::Imperial).unwrap().unwrap();
        assert_eq!(&laps[..8], b"\x89PNG\r\n\x1a\n");
        assert!(activity_png(&[], &[], Lang::En, Units::Metric).unwrap().is_none(), "nothing to draw");
    }

    #[test]
    fn a_form_chart_needs_load_to_draw() {
        let day0 = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let days: Vec<(NaiveDate, FitnessState)> = (0..84)
            .map(|i| {
                let ctl = 20.0 + f64::from(i) * 0.3;
                let atl = ctl + if i % 7 < 4 { 8.0 } else { -5.0 };
                (day0 + chrono::Duration::days(i64::from(i)), FitnessState { ctl, atl, tsb: ctl - atl })
            })
            .collect();
        let png = form_png(&days, Lang::Fr).unwrap().unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let flat: Vec<_> = days.iter().map(|(d, _)| (*d, FitnessState::default())).collect();
        assert!(form_png(&flat, Lang::En).unwrap().is_none(), "no load, no chart");
        assert!(form_png(&days[..1], Lang::En).unwrap().is_none(), "one day is no chart");
    }
}
