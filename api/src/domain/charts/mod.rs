//! Charts drawn by the server as SVG, so a report can be embedded in an
//! `<img>` and read by a person: a time series (lines), bars, and a grid
//! such as weekday × hour ("best time to post").
//!
//! Pure: no I/O and no clock, so the same input always gives the same bytes.
//! Every chart is a standalone SVG 1.1 document with a `<title>` and a
//! one-sentence `<desc>` for screen readers, and always well-formed XML:
//! user text is escaped, empty or broken input draws "No data", and sizes
//! below 200 × 120 are raised to it.

mod axis;
mod bar;
mod canvas;
mod colour;
mod format;
mod heatmap;
mod legend;
mod line;
mod time;
mod trace;

use chrono::{DateTime, Utc};

pub use bar::bars;
pub use heatmap::heatmap;
pub use line::line;

/// Pixel size of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// Width in pixels; below 200 the chart is drawn 200 wide.
    pub width: u32,
    /// Height in pixels; below 120 the chart is drawn 120 high.
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Self {
            width: 800,
            height: 400,
        }
    }
}

/// One line of a time-series chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What the line measures, as the legend and tooltips name it.
    pub name: String,
    /// (instant, value) points in any order; a NaN or infinite value is a
    /// gap in the line, not a zero.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A time-series chart: one line per series over a shared time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeriesChart {
    /// The heading, and the document's accessible name.
    pub title: String,
    /// What the values are, written up the value axis.
    pub y_label: Option<String>,
    /// The lines, coloured in this order.
    pub series: Vec<Series>,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The category, written under the bar.
    pub label: String,
    /// Its height; negative values go below the zero line, and a NaN or
    /// infinite one leaves the slot empty.
    pub value: f64,
}

/// A bar chart (vertical bars, one per category, in the given order).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// The heading, and the document's accessible name.
    pub title: String,
    /// What the values are, written up the value axis.
    pub y_label: Option<String>,
    /// The bars, left to right.
    pub bars: Vec<Bar>,
}

/// A grid of values: `values[row][column]`, `None` where there is no data.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// The heading, and the document's accessible name.
    pub title: String,
    /// Row labels, top to bottom (e.g. weekdays); they set the row count.
    pub rows: Vec<String>,
    /// Column labels, left to right (e.g. hours); they set the column count.
    pub columns: Vec<String>,
    /// The values; cells missing from a short or ragged grid count as
    /// `None`, extra ones are ignored.
    pub values: Vec<Vec<Option<f64>>>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use roxmltree::{Document, Node};

    use super::*;

    /// The chart parsed as XML; a test fails here on any well-formedness slip.
    pub(super) fn parse(svg: &str) -> Document<'_> {
        Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"))
    }

    /// Elements whose `class` lists `class`, in document order.
    pub(super) fn by_class<'a, 'input>(
        doc: &'a Document<'input>,
        class: &str,
    ) -> Vec<Node<'a, 'input>> {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
            })
            .collect()
    }

    /// An attribute that must be there.
    pub(super) fn attr<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
        node.attribute(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
    }

    /// All the text inside `node`, unescaped.
    pub(super) fn text_of(node: Node<'_, '_>) -> String {
        node.descendants()
            .filter_map(|n| n.text().filter(|_| n.is_text()))
            .collect()
    }

    /// The text of each element of `class`, in document order.
    pub(super) fn texts(doc: &Document<'_>, class: &str) -> Vec<String> {
        by_class(doc, class).iter().map(|n| text_of(*n)).collect()
    }

    /// The text of the first `<tag>` in the document.
    pub(super) fn first_text(doc: &Document<'_>, tag: &str) -> String {
        text_of(
            doc.descendants()
                .find(|n| n.has_tag_name(tag))
                .unwrap_or_else(|| panic!("no <{tag}>")),
        )
    }

    pub(super) fn day(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    const NASTY: &str = "Q4 <report> & \"friends\" 'n' \u{1}stuff";

    fn nasty_charts() -> Vec<(&'static str, String, Size)> {
        let tiny = Size {
            width: 0,
            height: 0,
        };
        let series = |name: &str, points: Vec<(DateTime<Utc>, f64)>| Series {
            name: name.to_owned(),
            points,
        };
        let lines = |series: Vec<Series>| TimeSeriesChart {
            title: NASTY.to_owned(),
            y_label: Some(NASTY.to_owned()),
            series,
        };
        let bar_chart = |bars: Vec<(&str, f64)>| BarChart {
            title: NASTY.to_owned(),
            y_label: Some(NASTY.to_owned()),
            bars: bars
                .into_iter()
                .map(|(label, value)| Bar {
                    label: label.to_owned(),
                    value,
                })
                .collect(),
        };
        let grid = |rows: usize, columns: usize, values: Vec<Vec<Option<f64>>>| Heatmap {
            title: NASTY.to_owned(),
            rows: (0..rows).map(|r| format!("<r{r}>")).collect(),
            columns: (0..columns).map(|c| format!("&c{c}")).collect(),
            values,
        };
        let many: Vec<(DateTime<Utc>, f64)> = (0..10_000)
            .map(|i| {
                (
                    day(1, 0) + chrono::TimeDelta::minutes(i),
                    (i as f64 / 50.0).sin() * 1e6,
                )
            })
            .collect();
        let default = Size::default();
        vec![
            ("line: no series", line(&lines(vec![]), default)),
            (
                "line: empty series",
                line(&lines(vec![series(NASTY, vec![])]), default),
            ),
            (
                "line: all NaN",
                line(
                    &lines(vec![series(
                        "a",
                        vec![(day(1, 0), f64::NAN), (day(2, 0), f64::INFINITY)],
                    )]),
                    default,
                ),
            ),
            (
                "line: one point",
                line(
                    &lines(vec![series(NASTY, vec![(day(3, 14), 5.0)])]),
                    default,
                ),
            ),
            (
                "line: negative",
                line(
                    &lines(vec![series(
                        "a",
                        vec![(day(1, 0), -5.0), (day(9, 0), 3.0), (day(5, 0), f64::NAN)],
                    )]),
                    default,
                ),
            ),
            (
                "line: 10,000 points",
                line(
                    &lines(vec![series("a", many.clone()), series("b", many)]),
                    default,
                ),
            ),
            (
                "line: extreme instants",
                line(
                    &lines(vec![series(
                        "a",
                        vec![
                            (DateTime::<Utc>::MIN_UTC, f64::MAX),
                            (DateTime::<Utc>::MAX_UTC, -f64::MAX),
                        ],
                    )]),
                    default,
                ),
            ),
            (
                "line: 0 × 0",
                line(
                    &lines(vec![
                        series(NASTY, vec![(day(1, 0), 1.0), (day(2, 0), 2.0)]),
                        series("b", vec![(day(1, 0), 2.0)]),
                    ]),
                    tiny,
                ),
            ),
            ("bars: none", bars(&bar_chart(vec![]), default)),
            (
                "bars: nasty",
                bars(
                    &bar_chart(vec![(NASTY, -3.0), ("", 0.0), ("x", f64::NAN), ("y", 1e12)]),
                    default,
                ),
            ),
            (
                "bars: 0 × 0",
                bars(&bar_chart(vec![("a", 1.0), ("b", 2.0)]), tiny),
            ),
            ("heatmap: empty", heatmap(&grid(0, 0, vec![]), default)),
            (
                "heatmap: all None",
                heatmap(&grid(2, 2, vec![vec![None, None]]), default),
            ),
            (
                "heatmap: ragged",
                heatmap(
                    &grid(
                        3,
                        4,
                        vec![
                            vec![Some(1.0)],
                            vec![],
                            vec![Some(f64::NAN), Some(-2.0), Some(3.0), Some(4.0), Some(5.0)],
                            vec![Some(9.0)],
                        ],
                    ),
                    default,
                ),
            ),
            (
                "heatmap: 0 × 0",
                heatmap(&grid(7, 24, vec![vec![Some(1.0); 24]; 7]), tiny),
            ),
        ]
        .into_iter()
        .map(|(name, svg)| {
            (
                name,
                svg,
                if name.ends_with("0 × 0") {
                    tiny
                } else {
                    default
                },
            )
        })
        .collect()
    }

    #[test]
    fn every_chart_is_a_well_formed_svg_whatever_the_input() {
        for (name, svg, size) in nasty_charts() {
            let doc = parse(&svg);
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg", "{name}");
            assert_eq!(
                root.tag_name().namespace(),
                Some("http://www.w3.org/2000/svg"),
                "{name}"
            );
            assert_eq!(attr(root, "role"), "img", "{name}");
            assert_eq!(
                attr(root, "aria-labelledby"),
                "chart-title chart-desc",
                "{name}"
            );
            let (width, height) = (size.width.max(200), size.height.max(120));
            assert_eq!(attr(root, "width"), width.to_string(), "{name}");
            assert_eq!(attr(root, "height"), height.to_string(), "{name}");
            assert_eq!(
                attr(root, "viewBox"),
                format!("0 0 {width} {height}"),
                "{name}"
            );
            // The control character is dropped: XML 1.0 cannot carry it.
            assert_eq!(
                first_text(&doc, "title"),
                "Q4 <report> & \"friends\" 'n' stuff",
                "{name}"
            );
            assert!(!first_text(&doc, "desc").is_empty(), "{name}");
            let shown = text_of(by_class(&doc, "chart-title")[0]);
            assert!(shown.starts_with("Q4 <report>"), "{name}: {shown}");
            let no_data = by_class(&doc, "no-data");
            let empty = [
                "no series",
                "empty series",
                "all NaN",
                "none",
                "empty",
                "all None",
            ]
            .iter()
            .any(|case| name.ends_with(case));
            assert_eq!(no_data.len(), usize::from(empty), "{name}");
            if empty {
                assert_eq!(text_of(no_data[0]), "No data");
                assert_eq!(first_text(&doc, "desc"), "No data.");
            }
            // No coordinate carries more than two decimals.
            for node in doc.descendants().filter(Node::is_element) {
                for key in ["x", "y", "width", "height", "x1", "y1", "cx", "cy"] {
                    if let Some(value) = node.attribute(key).filter(|v| !v.ends_with('%')) {
                        let decimals = value.split_once('.').map_or(0, |(_, d)| d.len());
                        assert!(
                            decimals <= 2 && value.parse::<f64>().is_ok(),
                            "{name}: {key}={value}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_same_input_draws_the_same_bytes() {
        let first: Vec<String> = nasty_charts().into_iter().map(|(_, svg, _)| svg).collect();
        let second: Vec<String> = nasty_charts().into_iter().map(|(_, svg, _)| svg).collect();
        assert_eq!(first.len(), 15);
        assert!(first == second);
    }
}
