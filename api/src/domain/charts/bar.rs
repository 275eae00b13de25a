//! Bars: one vertical bar per category, in the given order, growing from a
//! zero line (down for negative values).

use std::fmt::{self, Write};

use super::axis::Scale;
use super::canvas::{
    Canvas, FONT_PX, INK, MUTED, PLOT_TOP, Plot, finish, no_data, value_axis, value_axis_margin,
};
use super::format::{compact, escape, fit, num, text_width};
use super::{BarChart, Size};

/// Values are written on bars only up to this many; past it they crowd.
const MAX_VALUE_LABELS: usize = 24;
/// The longest category label, in characters; the full one is the bar's
/// tooltip.
const MAX_LABEL_CHARS: usize = 14;
/// The least room for a label under every bar, about six characters.
const MIN_LABEL_PX: f64 = 44.0;
/// Narrower slots label every second, third… bar instead, each with about
/// ten characters' room, so labels never overlap and still say something.
const THINNED_LABEL_PX: f64 = 72.0;
/// The share of its slot a bar fills; the rest keeps bars apart.
const BAR_SHARE: f64 = 0.7;
/// Blue up, vermillion down (Okabe–Ito), told apart without red and green.
const GAIN: &str = "#0072B2";
const LOSS: &str = "#D55E00";

/// Draws a bar chart as an SVG document: one vertical bar per category in
/// the given order, labelled underneath, with its value above it when there
/// are at most 24 bars.
pub fn bars(chart: &BarChart, size: Size) -> String {
    finish(draw(chart, size), size, &chart.title)
}

fn draw(chart: &BarChart, size: Size) -> Result<String, fmt::Error> {
    let finite = || chart.bars.iter().map(|b| b.value).filter(|v| v.is_finite());
    let (Some(low), Some(high)) = (finite().reduce(f64::min), finite().reduce(f64::max)) else {
        return no_data(size, &chart.title);
    };
    let mut canvas = Canvas::open(size, &chart.title, &summary(chart)?)?;
    let scale = Scale::new(low, high);
    let plot = Plot::new(
        value_axis_margin(&scale, chart.y_label.is_some()),
        PLOT_TOP,
        // A label wider than its slot may reach past the last bar.
        canvas.width - 24.0,
        canvas.height - 32.0,
    );
    value_axis(&mut canvas.svg, &scale, plot, chart.y_label.as_deref())?;
    let slot = plot.width() / chart.bars.len() as f64;
    let centre = |i: usize| plot.left + slot * (i as f64 + 0.5);
    let y = |value: f64| scale.y(value, plot.top, plot.bottom);
    let zero = y(0.0);

    canvas.svg.push_str(r#"<g class="bars">"#);
    for (i, bar) in chart.bars.iter().enumerate() {
        if !bar.value.is_finite() {
            continue;
        }
        let end = y(bar.value);
        write!(
            canvas.svg,
            r##"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>"##,
            num(centre(i) - slot * BAR_SHARE / 2.0),
            num(end.min(zero)),
            num(slot * BAR_SHARE),
            num((end - zero).abs()),
            if bar.value < 0.0 { LOSS } else { GAIN },
            escape(&bar.label),
            compact(bar.value),
        )?;
    }
    canvas.svg.push_str("</g>");

    let stride = if slot >= MIN_LABEL_PX {
        1
    } else {
        (THINNED_LABEL_PX / slot).ceil().max(1.0) as usize
    };
    let room = slot * stride as f64 - 6.0;
    write!(
        canvas.svg,
        r##"<g class="categories" fill="{MUTED}" text-anchor="middle">"##
    )?;
    for (i, bar) in chart.bars.iter().enumerate().step_by(stride) {
        write!(
            canvas.svg,
            r##"<text class="bar-label" x="{}" y="{}">{}</text>"##,
            num(centre(i)),
            num(plot.bottom + 18.0),
            escape(&fit(&bar.label, MAX_LABEL_CHARS, room, FONT_PX)),
        )?;
    }
    canvas.svg.push_str("</g>");

    let values: Vec<String> = chart.bars.iter().map(|b| compact(b.value)).collect();
    let widest = values
        .iter()
        .map(|v| text_width(v, FONT_PX))
        .fold(0.0, f64::max);
    if chart.bars.len() <= MAX_VALUE_LABELS && widest + 4.0 <= slot {
        write!(
            canvas.svg,
            r##"<g class="values" fill="{INK}" text-anchor="middle">"##
        )?;
        for (i, (bar, text)) in chart.bars.iter().zip(&values).enumerate() {
            if !bar.value.is_finite() {
                continue;
            }
            let end = y(bar.value);
            // Under a negative bar when there is room before the category
            // labels, else on the zero line's other side: never on a label.
            let at = if bar.value >= 0.0 {
                end - 5.0
            } else if plot.bottom - end >= 16.0 {
                end + 14.0
            } else {
                zero - 5.0
            };
            write!(
                canvas.svg,
                r##"<text class="value-label" x="{}" y="{}">{}</text>"##,
                num(centre(i)),
                num(at),
                escape(text),
            )?;
        }
        canvas.svg.push_str("</g>");
    }
    Ok(canvas.close())
}

/// "3 bars; highest 1.2k (Instagram); lowest -30 (Mastodon)".
fn summary(chart: &BarChart) -> Result<String, fmt::Error> {
    let count = chart.bars.len();
    let mut text = format!("{count} {}", if count == 1 { "bar" } else { "bars" });
    let finite = || chart.bars.iter().filter(|b| b.value.is_finite());
    // Strict comparisons: on a tie the leftmost bar is named.
    let highest = finite().reduce(|best, b| if b.value > best.value { b } else { best });
    let lowest = finite().reduce(|best, b| if b.value < best.value { b } else { best });
    if let Some(bar) = highest {
        write!(text, "; highest {} ({})", compact(bar.value), bar.label)?;
    }
    if let Some(bar) = lowest.filter(|_| count > 1) {
        write!(text, "; lowest {} ({})", compact(bar.value), bar.label)?;
    }
    let missing = count - finite().count();
    if missing > 0 {
        write!(text, "; {missing} without data")?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{attr, by_class, parse, text_of};
    use super::super::{Bar, BarChart};
    use super::*;

    fn chart(bars: &[(&str, f64)]) -> BarChart {
        BarChart {
            title: "Engagement by channel".to_owned(),
            y_label: Some("Engagements".to_owned()),
            bars: bars
                .iter()
                .map(|(label, value)| Bar {
                    label: (*label).to_owned(),
                    value: *value,
                })
                .collect(),
        }
    }

    fn number(node: roxmltree::Node<'_, '_>, name: &str) -> f64 {
        attr(node, name).parse().unwrap()
    }

    #[test]
    fn every_bar_has_a_rect_a_label_a_value_and_a_tooltip() {
        let svg = bars(
            &chart(&[
                ("Instagram", 1234.0),
                ("<Mastodon & co>", 56.0),
                ("Bluesky", 0.0),
            ]),
            Size::default(),
        );
        let doc = parse(&svg);
        let rects = by_class(&doc, "bar");
        assert_eq!(rects.len(), 3);
        let tooltips: Vec<String> = rects
            .iter()
            .map(|r| text_of(r.first_element_child().unwrap()))
            .collect();
        assert_eq!(
            tooltips,
            ["Instagram: 1.2k", "<Mastodon & co>: 56", "Bluesky: 0"]
        );
        let labels: Vec<String> = by_class(&doc, "bar-label")
            .iter()
            .map(|n| text_of(*n))
            .collect();
        // 15 characters: one over the limit.
        assert_eq!(labels, ["Instagram", "<Mastodon & c…", "Bluesky"]);
        let values: Vec<String> = by_class(&doc, "value-label")
            .iter()
            .map(|n| text_of(*n))
            .collect();
        assert_eq!(values, ["1.2k", "56", "0"]);
        assert_eq!(
            text_of(doc.descendants().find(|n| n.has_tag_name("desc")).unwrap()),
            "3 bars; highest 1.2k (Instagram); lowest 0 (Bluesky)"
        );
        // Taller for more: the 1234 bar is about 22 times the 56 one.
        let heights: Vec<f64> = rects.iter().map(|r| number(*r, "height")).collect();
        assert!(
            (heights[0] / heights[1] - 1234.0 / 56.0).abs() < 0.1,
            "{heights:?}"
        );
    }

    #[test]
    fn negative_bars_hang_below_the_zero_line() {
        let svg = bars(
            &chart(&[("Gained", 40.0), ("Lost", -25.0)]),
            Size::default(),
        );
        let doc = parse(&svg);
        let zero = number(by_class(&doc, "zero")[0], "y1");
        let rects = by_class(&doc, "bar");
        let (gain, loss) = (rects[0], rects[1]);
        assert!((number(gain, "y") + number(gain, "height") - zero).abs() < 0.02);
        assert!((number(loss, "y") - zero).abs() < 0.02);
        assert!(number(loss, "height") > 0.0);
        assert_eq!(attr(loss, "fill"), LOSS);
        let ticks: Vec<String> = by_class(&doc, "tick").iter().map(|n| text_of(*n)).collect();
        assert_eq!(ticks, ["-30", "-20", "-10", "0", "10", "20", "30", "40"]);
    }

    #[test]
    fn labels_are_cut_and_thinned_so_they_never_overlap() {
        let long = chart(&[("A campaign with a very long name", 3.0), ("Short", 4.0)]);
        let doc_svg = bars(&long, Size::default());
        let doc = parse(&doc_svg);
        let labels: Vec<String> = by_class(&doc, "bar-label")
            .iter()
            .map(|n| text_of(*n))
            .collect();
        assert_eq!(labels, ["A campaign wi…", "Short"]);

        let many: Vec<(String, f64)> = (0..10_000)
            .map(|i| (format!("Post {i}"), f64::from(i % 97)))
            .collect();
        let many: Vec<(&str, f64)> = many.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        let svg = bars(&chart(&many), Size::default());
        let doc = parse(&svg);
        assert_eq!(by_class(&doc, "bar").len(), 10_000);
        assert!(
            by_class(&doc, "value-label").is_empty(),
            "no values on 10,000 bars"
        );
        let labels = by_class(&doc, "bar-label");
        assert!((2..=20).contains(&labels.len()), "{}", labels.len());
        for pair in labels.windows(2) {
            let gap = number(pair[1], "x") - number(pair[0], "x");
            let half_widths = (text_width(&text_of(pair[0]), FONT_PX)
                + text_width(&text_of(pair[1]), FONT_PX))
                / 2.0;
            assert!(
                gap > half_widths,
                "{} and {} overlap",
                text_of(pair[0]),
                text_of(pair[1])
            );
        }
    }

    #[test]
    fn value_labels_stop_past_24_bars() {
        let bars_of =
            |n: usize| -> Vec<(String, f64)> { (0..n).map(|i| (format!("{i}"), 5.0)).collect() };
        for (count, expected) in [(24, 24), (25, 0)] {
            let owned = bars_of(count);
            let list: Vec<(&str, f64)> = owned.iter().map(|(l, v)| (l.as_str(), *v)).collect();
            let doc_svg = bars(&chart(&list), Size::default());
            assert_eq!(
                by_class(&parse(&doc_svg), "value-label").len(),
                expected,
                "{count} bars"
            );
        }
    }

    #[test]
    fn missing_values_leave_an_empty_slot_and_none_at_all_says_no_data() {
        let svg = bars(
            &chart(&[("A", 1.0), ("B", f64::NAN), ("C", 2.0)]),
            Size::default(),
        );
        let doc = parse(&svg);
        assert_eq!(by_class(&doc, "bar").len(), 2);
        assert_eq!(by_class(&doc, "bar-label").len(), 3);
        assert!(
            text_of(doc.descendants().find(|n| n.has_tag_name("desc")).unwrap())
                .ends_with("; 1 without data")
        );
        for empty in [chart(&[]), chart(&[("A", f64::NAN), ("B", f64::INFINITY)])] {
            let doc_svg = bars(&empty, Size::default());
            let doc = parse(&doc_svg);
            assert_eq!(text_of(by_class(&doc, "no-data")[0]), "No data");
            assert!(by_class(&doc, "bar").is_empty());
        }
    }
}
