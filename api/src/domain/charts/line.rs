//! Time series: one line per series over a shared UTC time axis.

use std::fmt::{self, Write};

use chrono::{DateTime, TimeDelta, Utc};

use super::axis::Scale;
use super::canvas::{
    Canvas, MUTED, PLOT_TOP, Plot, finish, no_data, value_axis, value_axis_margin,
};
use super::colour::series_colour;
use super::format::{compact, escape, num};
use super::legend::Legend;
use super::time::{TimeUnit, time_ticks};
use super::trace::{self, TimeScale, Trace};
use super::{Size, TimeSeriesChart};

/// Draws a time-series chart as an SVG document: one line per series over a
/// shared UTC time axis, with a legend when there is more than one series.
pub fn line(chart: &TimeSeriesChart, size: Size) -> String {
    finish(draw(chart, size), size, &chart.title)
}

fn draw(chart: &TimeSeriesChart, size: Size) -> Result<String, fmt::Error> {
    let traces: Vec<Trace<'_>> = chart
        .series
        .iter()
        .enumerate()
        .map(|(i, series)| Trace::new(series, series_colour(i)))
        .collect();
    let points = || traces.iter().flat_map(Trace::points);
    let (Some(first), Some(last)) = (points().map(|p| p.0).min(), points().map(|p| p.0).max())
    else {
        return no_data(size, &chart.title);
    };
    let (low, high) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), p| {
        (low.min(p.1), high.max(p.1))
    });
    // A single instant gets an hour either side, so its dot sits mid-axis
    // under readable hour ticks.
    let (start, end) = if first == last {
        (
            first
                .checked_sub_signed(TimeDelta::hours(1))
                .unwrap_or(first),
            last.checked_add_signed(TimeDelta::hours(1)).unwrap_or(last),
        )
    } else {
        (first, last)
    };
    let unit = TimeUnit::for_span(end - start);
    let mut canvas = Canvas::open(size, &chart.title, &summary(&traces, first, last, unit)?)?;
    let scale = Scale::new(low, high);
    let legend = if traces.len() > 1 {
        let entries: Vec<(String, &'static str)> = traces
            .iter()
            .map(|t| {
                let name = if t.runs.is_empty() {
                    format!("{} (no data)", t.name)
                } else {
                    t.name.to_owned()
                };
                (name, t.colour)
            })
            .collect();
        Legend::layout(&entries, canvas.width - 32.0)
    } else {
        Legend::default()
    };
    // Hour ticks carry the date on a second line.
    let axis_px = if unit == TimeUnit::Hours { 40.0 } else { 26.0 };
    let plot = Plot::new(
        value_axis_margin(&scale, chart.y_label.is_some()),
        PLOT_TOP,
        // Room for half of a centred "Nov 2026" past the last tick.
        canvas.width - 32.0,
        canvas.height - axis_px - legend.height() - 8.0,
    );
    value_axis(&mut canvas.svg, &scale, plot, chart.y_label.as_deref())?;
    let time = TimeScale {
        start,
        span_ms: ((end - start).num_milliseconds() as f64).max(1.0),
        plot,
    };
    time_axis(&mut canvas.svg, &time, end)?;
    for trace in &traces {
        trace::draw(&mut canvas.svg, trace, &time, &scale, unit)?;
    }
    legend.draw(&mut canvas.svg, 16.0, plot.bottom + axis_px + 4.0)?;
    Ok(canvas.close())
}

/// "2 series from 2026-11-01 to 2026-11-07; highest 1.2k (Likes on 2026-11-03)".
fn summary(
    traces: &[Trace<'_>],
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    unit: TimeUnit,
) -> Result<String, fmt::Error> {
    let with_data = traces.iter().filter(|t| !t.runs.is_empty()).count();
    let (from, to) = (unit.instant(first), unit.instant(last));
    let mut text = if from == to {
        format!("{with_data} series on {from}")
    } else {
        format!("{with_data} series from {from} to {to}")
    };
    let all = || {
        traces
            .iter()
            .flat_map(|t| t.points().map(move |(at, value)| (t.name, *at, *value)))
    };
    // Strict comparisons: on a tie the first series, then the earliest point, is named.
    let highest = all().reduce(|best, p| if p.2 > best.2 { p } else { best });
    let lowest = all().reduce(|best, p| if p.2 < best.2 { p } else { best });
    if let Some((name, at, value)) = highest {
        write!(
            text,
            "; highest {} ({name} on {})",
            compact(value),
            unit.instant(at)
        )?;
    }
    if let Some((name, at, value)) = lowest.filter(|p| p.2 < 0.0) {
        write!(
            text,
            "; lowest {} ({name} on {})",
            compact(value),
            unit.instant(at)
        )?;
    }
    Ok(text)
}

fn time_axis(svg: &mut String, time: &TimeScale, end: DateTime<Utc>) -> fmt::Result {
    let plot = time.plot;
    write!(
        svg,
        r##"<g class="x-axis" fill="{MUTED}" text-anchor="middle">"##
    )?;
    for tick in time_ticks(time.start, end, plot.width()) {
        let x = num(time.x(tick.at));
        write!(
            svg,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{MUTED}"/><text class="tick" x="{x}" y="{}">{}</text>"##,
            num(plot.bottom),
            num(plot.bottom + 5.0),
            num(plot.bottom + 18.0),
            escape(&tick.label),
        )?;
        if let Some(date) = &tick.date {
            write!(
                svg,
                r##"<text class="tick-date" x="{x}" y="{}">{}</text>"##,
                num(plot.bottom + 32.0),
                escape(date),
            )?;
        }
    }
    svg.push_str("</g>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Series;
    use super::super::tests::{attr, by_class, day, first_text, parse, text_of, texts};
    use super::super::trace::Point;
    use super::*;

    fn chart(series: Vec<(&str, Vec<Point>)>) -> TimeSeriesChart {
        TimeSeriesChart {
            title: "Engagement".to_owned(),
            y_label: Some("Likes".to_owned()),
            series: series
                .into_iter()
                .map(|(name, points)| Series {
                    name: name.to_owned(),
                    points,
                })
                .collect(),
        }
    }

    fn week() -> TimeSeriesChart {
        chart(vec![
            (
                "Likes",
                (1..=7)
                    .map(|d| {
                        (
                            day(d, 0),
                            if d == 3 { 1234.0 } else { 100.0 * f64::from(d) },
                        )
                    })
                    .collect(),
            ),
            (
                "Shares",
                (1..=7).rev().map(|d| (day(d, 0), f64::from(d))).collect(),
            ),
        ])
    }

    #[test]
    fn each_series_is_one_line_with_a_legend_entry() {
        let svg = line(&week(), Size::default());
        let doc = parse(&svg);
        assert_eq!(first_text(&doc, "title"), "Engagement");
        assert_eq!(
            first_text(&doc, "desc"),
            "2 series from 2026-11-01 to 2026-11-07; highest 1.2k (Likes on 2026-11-03)"
        );
        let series = by_class(&doc, "series");
        assert_eq!(series.len(), 2);
        for (group, (name, colour)) in series
            .iter()
            .zip([("Likes", "#0072B2"), ("Shares", "#E69F00")])
        {
            assert_eq!(text_of(group.first_element_child().unwrap()), name);
            assert_eq!(attr(*group, "stroke"), colour);
            let paths: Vec<_> = group
                .children()
                .filter(|n| n.has_tag_name("path"))
                .collect();
            assert_eq!(paths.len(), 1, "{name}");
            assert_eq!(
                attr(paths[0], "d").matches('M').count(),
                1,
                "{name}: no gap"
            );
            assert_eq!(attr(paths[0], "d").matches('L').count(), 6, "{name}");
            assert_eq!(
                group
                    .children()
                    .filter(|n| n.has_tag_name("circle"))
                    .count(),
                7,
                "{name}"
            );
        }
        assert_eq!(texts(&doc, "legend-entry"), ["Likes", "Shares"]);
        assert_eq!(texts(&doc, "y-label"), ["Likes"]);
        let days: Vec<String> = by_class(&doc, "x-axis")[0]
            .children()
            .filter(|n| attr_is(*n, "class", "tick"))
            .map(text_of)
            .collect();
        assert_eq!(
            days,
            [
                "Nov 1", "Nov 2", "Nov 3", "Nov 4", "Nov 5", "Nov 6", "Nov 7"
            ]
        );
        let ticks: Vec<String> = by_class(&doc, "y-axis")[0]
            .children()
            .filter(|n| attr_is(*n, "class", "tick"))
            .map(text_of)
            .collect();
        assert_eq!(
            ticks,
            ["0", "200", "400", "600", "800", "1k", "1.2k", "1.4k"]
        );
        let tooltip = by_class(&doc, "point")[2].first_element_child().unwrap();
        assert_eq!(text_of(tooltip), "Likes, 2026-11-03: 1.2k");
    }

    fn attr_is(node: roxmltree::Node<'_, '_>, name: &str, value: &str) -> bool {
        node.attribute(name) == Some(value)
    }

    #[test]
    fn the_time_axis_counts_hours_days_or_months() {
        let hourly: Vec<_> = (0..=24)
            .map(|h| (day(24, 8) + TimeDelta::hours(h), 1.0))
            .collect();
        let svg = line(&chart(vec![("Likes", hourly)]), Size::default());
        let doc = parse(&svg);
        let hours: Vec<String> = texts(&doc, "tick")
            .into_iter()
            .filter(|t| t.contains(':'))
            .collect();
        assert_eq!(
            hours,
            [
                "09:00", "12:00", "15:00", "18:00", "21:00", "00:00", "03:00", "06:00"
            ]
        );
        assert_eq!(texts(&doc, "tick-date"), ["Nov 24", "Nov 25"]);

        let monthly: Vec<_> = (0..12)
            .map(|m| (day(1, 0) - TimeDelta::days(30 * m), 1.0))
            .collect();
        let svg = line(&chart(vec![("Likes", monthly)]), Size::default());
        let doc = parse(&svg);
        let months: Vec<String> = texts(&doc, "tick")
            .into_iter()
            .filter(|t| t.contains("20"))
            .collect();
        assert_eq!(
            months,
            [
                "Jan 2026", "Mar 2026", "May 2026", "Jul 2026", "Sep 2026", "Nov 2026"
            ]
        );
        assert!(texts(&doc, "tick-date").is_empty());
    }

    #[test]
    fn negative_values_put_zero_inside_the_plot() {
        let svg = line(
            &chart(vec![(
                "Net followers",
                vec![(day(1, 0), -40.0), (day(5, 0), 25.0)],
            )]),
            Size::default(),
        );
        let doc = parse(&svg);
        let ticks: Vec<String> = texts(&doc, "tick").into_iter().take(8).collect();
        assert_eq!(ticks, ["-40", "-30", "-20", "-10", "0", "10", "20", "30"]);
        assert!(first_text(&doc, "desc").ends_with("; lowest -40 (Net followers on 2026-11-01)"));
    }

    #[test]
    fn empty_series_say_so_in_the_legend() {
        let svg = line(
            &chart(vec![
                ("Likes", vec![(day(1, 0), 1.0), (day(2, 0), 2.0)]),
                ("Saves", vec![(day(1, 0), f64::NAN)]),
            ]),
            Size::default(),
        );
        let doc = parse(&svg);
        assert_eq!(by_class(&doc, "series").len(), 1);
        assert_eq!(texts(&doc, "legend-entry"), ["Likes", "Saves (no data)"]);
    }
}
