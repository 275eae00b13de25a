//! One series as drawn: its line (with gaps where values are missing), its
//! dots, and the thinning that keeps 10,000 points a small document.

use std::fmt::{self, Write};

use chrono::{DateTime, Utc};

use super::Series;
use super::axis::Scale;
use super::canvas::Plot;
use super::format::{compact, escape, num};
use super::time::TimeUnit;

/// Above this many points a series gets no dot per point: they would merge
/// into a thick smudge.
const MAX_MARKED_POINTS: usize = 40;

/// An instant and its value.
pub(super) type Point = (DateTime<Utc>, f64);

/// A series ready to draw: its finite points in time order, split into runs
/// where a value was missing so the line shows a gap rather than a zero.
#[derive(Debug)]
pub(super) struct Trace<'a> {
    /// The series' name.
    pub(super) name: &'a str,
    /// Its line's colour.
    pub(super) colour: &'static str,
    /// Unbroken stretches of finite points; empty when it has no data.
    pub(super) runs: Vec<Vec<Point>>,
}

impl<'a> Trace<'a> {
    /// `series` sorted, split at missing values, in `colour`.
    pub(super) fn new(series: &'a Series, colour: &'static str) -> Self {
        let mut points = series.points.clone();
        // Stable, so points at the same instant keep their order and the
        // output stays the same from run to run.
        points.sort_by_key(|(at, _)| *at);
        let mut runs = Vec::new();
        let mut run = Vec::new();
        for (at, value) in points {
            if value.is_finite() {
                run.push((at, value));
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        Self {
            name: &series.name,
            colour,
            runs,
        }
    }

    /// Every finite point, in time order.
    pub(super) fn points(&self) -> impl Iterator<Item = &Point> {
        self.runs.iter().flatten()
    }
}

/// Where an instant goes across the plot.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimeScale {
    /// The instant at the left edge.
    pub(super) start: DateTime<Utc>,
    /// Milliseconds from the left edge to the right one, never zero.
    pub(super) span_ms: f64,
    /// The plot it spans.
    pub(super) plot: Plot,
}

impl TimeScale {
    /// The pixel column of `at`.
    pub(super) fn x(&self, at: DateTime<Utc>) -> f64 {
        let offset = (at - self.start).num_milliseconds() as f64;
        self.plot.left + offset / self.span_ms * self.plot.width()
    }
}

/// Draws `trace` as a group: a path with one stretch per run, and dots where
/// a point stands alone or there are few enough points to mark each one.
pub(super) fn draw(
    svg: &mut String,
    trace: &Trace<'_>,
    time: &TimeScale,
    scale: &Scale,
    unit: TimeUnit,
) -> fmt::Result {
    if trace.runs.is_empty() {
        return Ok(());
    }
    let plot = time.plot;
    let y = |value: f64| scale.y(value, plot.top, plot.bottom);
    write!(
        svg,
        r##"<g class="series" fill="{c}" stroke="{c}"><title>{}</title>"##,
        escape(trace.name),
        c = trace.colour,
    )?;
    let mut path = String::new();
    for run in trace.runs.iter().filter(|run| run.len() > 1) {
        let pixels = decimate(
            run.iter()
                .map(|(at, value)| (time.x(*at), y(*value)))
                .collect(),
        );
        for (i, (x, y)) in pixels.iter().enumerate() {
            let command = if i == 0 { 'M' } else { 'L' };
            write!(path, "{command}{} {}", num(*x), num(*y))?;
        }
    }
    if !path.is_empty() {
        write!(
            svg,
            r##"<path class="line" d="{path}" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"##
        )?;
    }
    let marked = trace.points().count() <= MAX_MARKED_POINTS;
    for run in &trace.runs {
        // A lone point between gaps has no line to sit on: the dot is all
        // there is of it.
        if run.len() == 1 || marked {
            for (at, value) in run {
                write!(
                    svg,
                    r##"<circle class="point" cx="{}" cy="{}" r="3" stroke="#ffffff"><title>{}, {}: {}</title></circle>"##,
                    num(time.x(*at)),
                    num(y(*value)),
                    escape(trace.name),
                    unit.instant(*at),
                    compact(*value),
                )?;
            }
        }
    }
    svg.push_str("</g>");
    Ok(())
}

/// Points that share a pixel column are drawn on top of each other; keeping
/// each column's first, lowest, highest and last point draws the same
/// picture with a handful of points per pixel instead of thousands.
fn decimate(pixels: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut kept = Vec::with_capacity(pixels.len().min(4096));
    let mut column: Vec<(f64, f64)> = Vec::new();
    for pixel in pixels {
        if column
            .first()
            .is_some_and(|c| c.0.floor() != pixel.0.floor())
        {
            keep_extremes(&mut kept, &mut column);
        }
        column.push(pixel);
    }
    keep_extremes(&mut kept, &mut column);
    kept
}

fn keep_extremes(kept: &mut Vec<(f64, f64)>, column: &mut Vec<(f64, f64)>) {
    if column.len() <= 4 {
        kept.append(column);
        return;
    }
    let by_y = |a: &(usize, &(f64, f64)), b: &(usize, &(f64, f64))| a.1.1.total_cmp(&b.1.1);
    let lowest = column.iter().enumerate().min_by(by_y).map_or(0, |(i, _)| i);
    let highest = column.iter().enumerate().max_by(by_y).map_or(0, |(i, _)| i);
    let mut indices = [0, lowest, highest, column.len() - 1];
    indices.sort_unstable();
    let mut previous = None;
    for i in indices {
        if previous != Some(i) {
            kept.extend(column.get(i).copied());
            previous = Some(i);
        }
    }
    column.clear();
}

#[cfg(test)]
mod tests {
    use super::super::tests::{attr, by_class, day, first_text, parse, texts};
    use super::super::{Size, TimeSeriesChart, line};
    use super::*;
    use chrono::TimeDelta;

    fn chart(series: Vec<(&str, Vec<Point>)>) -> TimeSeriesChart {
        TimeSeriesChart {
            title: "Reach".to_owned(),
            y_label: None,
            series: series
                .into_iter()
                .map(|(name, points)| Series {
                    name: name.to_owned(),
                    points,
                })
                .collect(),
        }
    }

    #[test]
    fn unsorted_points_draw_like_sorted_ones() {
        let sorted: Vec<_> = (1..=9).map(|d| (day(d, 0), f64::from(d * d))).collect();
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.swap(1, 4);
        let shuffled_copy = shuffled.clone();
        let drawn = |points| line(&chart(vec![("Reach", points)]), Size::default());
        assert_eq!(drawn(shuffled), drawn(sorted.clone()));
        let series = Series {
            name: "Reach".to_owned(),
            points: shuffled_copy,
        };
        assert_eq!(Trace::new(&series, "#0072B2").runs, [sorted]);
    }

    #[test]
    fn a_missing_value_is_a_gap_and_a_lone_point_a_dot() {
        let points = vec![
            (day(1, 0), 1.0),
            (day(2, 0), 2.0),
            (day(3, 0), f64::NAN),
            (day(4, 0), 4.0),
            (day(5, 0), f64::INFINITY),
            (day(6, 0), 6.0),
            (day(7, 0), 7.0),
        ];
        let svg = line(&chart(vec![("Reach", points)]), Size::default());
        let doc = parse(&svg);
        let d = attr(by_class(&doc, "line")[0], "d");
        assert_eq!(
            (d.matches('M').count(), d.matches('L').count()),
            (2, 2),
            "{d}"
        );
        assert_eq!(by_class(&doc, "point").len(), 5);
        assert!(
            by_class(&doc, "legend").is_empty(),
            "one series needs no legend"
        );

        let svg = line(
            &chart(vec![("Reach", vec![(day(3, 14), 5.0)])]),
            Size::default(),
        );
        let doc = parse(&svg);
        assert!(by_class(&doc, "line").is_empty());
        let dots = by_class(&doc, "point");
        assert_eq!(dots.len(), 1);
        // An hour either side puts it mid-axis.
        let x: f64 = attr(dots[0], "cx").parse().unwrap();
        let zero = by_class(&doc, "zero")[0];
        let (left, right): (f64, f64) = (
            attr(zero, "x1").parse().unwrap(),
            attr(zero, "x2").parse().unwrap(),
        );
        assert!(
            (x - (left + right) / 2.0).abs() < 0.02,
            "{x} in {left}..{right}"
        );
        assert_eq!(texts(&doc, "tick-date"), ["Nov 3"]);
        assert_eq!(
            first_text(&doc, "desc"),
            "1 series on 2026-11-03 14:00; highest 5 (Reach on 2026-11-03 14:00)"
        );
    }

    #[test]
    fn ten_thousand_points_stay_a_small_document() {
        let points: Vec<_> = (0..10_000)
            .map(|i| {
                (
                    day(1, 0) + TimeDelta::minutes(i),
                    (i as f64 / 40.0).sin() * 1000.0,
                )
            })
            .collect();
        let svg = line(&chart(vec![("Impressions", points)]), Size::default());
        let doc = parse(&svg);
        let d = attr(by_class(&doc, "line")[0], "d");
        let vertices = d.matches('L').count() + 1;
        // At most four per pixel column of a ~730 px plot, and the peaks kept.
        assert!((1000..=4 * 740).contains(&vertices), "{vertices}");
        assert!(
            by_class(&doc, "point").is_empty(),
            "no dots on a dense line"
        );
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
        let ys: Vec<f64> = d
            .split(['M', 'L'])
            .filter_map(|p| p.split_once(' '))
            .map(|(_, y)| y.parse().unwrap())
            .collect();
        let scale = Scale::new(-1000.0, 1000.0);
        let (top, bottom) = (scale.y(1000.0, 48.0, 366.0), scale.y(-1000.0, 48.0, 366.0));
        let highest = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let lowest = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(
            (highest - top).abs() < 1.0 && (lowest - bottom).abs() < 1.0,
            "{highest} {lowest}"
        );
    }

    #[test]
    fn decimation_keeps_each_columns_first_extremes_and_last() {
        let column = vec![
            (10.1, 5.0),
            (10.2, 9.0),
            (10.3, 1.0),
            (10.4, 4.0),
            (10.5, 6.0),
            (11.0, 3.0),
        ];
        assert_eq!(
            decimate(column),
            [
                (10.1, 5.0),
                (10.2, 9.0),
                (10.3, 1.0),
                (10.5, 6.0),
                (11.0, 3.0)
            ]
        );
        let sparse = vec![(1.0, 1.0), (2.0, 2.0), (2.5, 3.0)];
        assert_eq!(decimate(sparse.clone()), sparse);
    }
}
