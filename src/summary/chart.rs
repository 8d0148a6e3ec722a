//! The summary's chart: weekly distance over 8 weeks as bars, the plan's target as a line, drawn
//! with plotters' bitmap backend and encoded as PNG (`crate::charts`: the shipped font, the encoding).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::WeeklySummary;
use crate::domain::Units;
use crate::i18n::{Lang, number};

pub const CHART_WIDTH: u32 = 800;
pub const CHART_HEIGHT: u32 = 400;

use crate::charts::{ChartError, FAMILY, INK, err};

const BAR: RGBColor = RGBColor(66, 133, 204);
const BAR_DIM: RGBColor = RGBColor(160, 195, 232);
const TARGET: RGBColor = RGBColor(230, 120, 20);

/// An 800×400 PNG: one bar per week (the summarised week darker), the plan's weekly distance as an
/// orange line where a plan covers the week; distances in `units`.
pub fn chart_png(s: &WeeklySummary, lang: Lang, units: Units) -> Result<Vec<u8>, ChartError> {
    crate::charts::png(CHART_WIDTH, CHART_HEIGHT, |rgb| draw(s, lang, units, rgb))
}

fn draw(s: &WeeklySummary, lang: Lang, units: Units, rgb: &mut [u8]) -> Result<(), ChartError> {
    let bars: Vec<super::WeekBar> = s
        .chart
        .iter()
        .map(|b| super::WeekBar {
            km: units.from_km(b.km),
            target_km: b.target_km.map(|t| units.from_km(t)),
            ..b.clone()
        })
        .collect();
    let bars = &bars;
    // A segmented range includes its end: 0..n-1 gives n slots.
    let n = u32::try_from(bars.len()).unwrap_or(0).max(1);
    let top = bars.iter().map(|b| b.km.max(b.target_km.unwrap_or(0.0))).fold(0.0_f64, f64::max).max(5.0) * 1.35;
    let label = |i: u32| -> String {
        bars.get(i as usize).map(|b| format!("{}{:02}", lang.pick("S", "W"), b.week.week())).unwrap_or_default()
    };

    let root = BitMapBackend::with_buffer(rgb, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let unit = units.distance_unit();
    let title = match lang {
        Lang::Fr => format!("Distance hebdomadaire ({unit}), 8 dernières semaines"),
        Lang::En => format!("Weekly distance ({unit}), last 8 weeks"),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 22).into_font().color(&INK))
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(46)
        .build_cartesian_2d((0u32..n - 1).into_segmented(), 0f64..top)
        .map_err(err)?;
    let fmt_x = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => label(*i),
        _ => String::new(),
    };
    let fmt_y = |v: &f64| number(lang, *v, 0);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(bars.len().max(1))
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .y_desc(unit)
        .label_style((FAMILY, 14).into_font().color(&INK))
        .axis_desc_style((FAMILY, 14).into_font().color(&INK))
        .draw()
        .map_err(err)?;

    let last = bars.len().saturating_sub(1);
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let i = u32::try_from(i).unwrap_or(0);
            let color = if i as usize == last { BAR } else { BAR_DIM };
            let mut r =
                Rectangle::new([(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.km)], color.filled());
            r.set_margin(0, 0, 14, 14);
            r
        }))
        .map_err(err)?
        .label(lang.pick("Réalisé", "Done"))
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], BAR.filled()));

    // Bar values above the bars.
    chart
        .draw_series(bars.iter().enumerate().filter(|(_, b)| b.km > 0.0).map(|(i, b)| {
            let i = u32::try_from(i).unwrap_or(0);
            Text::new(
                number(lang, b.km, if b.km < 100.0 { 1 } else { 0 }),
                (SegmentValue::CenterOf(i), b.km + top * 0.02),
                (FAMILY, 13).into_font().color(&INK).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            )
        }))
        .map_err(err)?;

    // The plan's target: one line per run of consecutive weeks with a target.
    let mut segments: Vec<Vec<(SegmentValue<u32>, f64)>> = Vec::new();
    let mut current: Vec<(SegmentValue<u32>, f64)> = Vec::new();
    for (i, b) in bars.iter().enumerate() {
        match b.target_km {
            Some(t) => current.push((SegmentValue::CenterOf(u32::try_from(i).unwrap_or(0)), t)),
            None if !current.is_empty() => segments.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    let style = TARGET.stroke_width(3);
    for (k, seg) in segments.iter().enumerate() {
        let series = chart.draw_series(LineSeries::new(seg.clone(), style)).map_err(err)?;
        if k == 0 {
            series
                .label(lang.pick("Objectif du plan", "Plan target"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
        }
        chart.draw_series(seg.iter().map(|p| Circle::new(p.clone(), 4, TARGET.filled()))).map_err(err)?;
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, 14).into_font().color(&INK))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
