//! What every chart shares: the document around it, its title and summary,
//! the "No data" face, and the value axis.

use std::fmt::{self, Write};

use super::Size;
use super::axis::Scale;
use super::format::{escape, fit, num, text_width};

/// Labels, ticks and legends.
pub(super) const FONT_PX: f64 = 12.0;
/// The visible title.
const TITLE_PX: f64 = 16.0;
/// Below this a chart has no room for its labels.
const MIN_WIDTH: u32 = 200;
const MIN_HEIGHT: u32 = 120;
/// Where the plot starts: under the title, with room for labels above bars.
pub(super) const PLOT_TOP: f64 = 48.0;
/// Text colours: dark for titles, grey for axes (both readable on white).
pub(super) const INK: &str = "#222222";
pub(super) const MUTED: &str = "#555555";
const GRID: &str = "#e6e6e6";
const BASELINE: &str = "#666666";
/// What is left when even writing into a `String` failed.
const BLANK: &str =
    r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120" viewBox="0 0 200 120"/>"#;

/// The area inside the margins where data is drawn, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plot {
    /// Left edge.
    pub(super) left: f64,
    /// Top edge.
    pub(super) top: f64,
    /// Right edge.
    pub(super) right: f64,
    /// Bottom edge.
    pub(super) bottom: f64,
}

impl Plot {
    /// A plot with these edges, at least `MIN_PLOT` pixels each way even
    /// when the margins take more than the chart has.
    pub(super) fn new(left: f64, top: f64, right: f64, bottom: f64) -> Self {
        const MIN_PLOT: f64 = 10.0;
        Self {
            left,
            top,
            right: right.max(left + MIN_PLOT),
            bottom: bottom.max(top + MIN_PLOT),
        }
    }

    /// Width in pixels.
    pub(super) fn width(&self) -> f64 {
        self.right - self.left
    }

    /// Height in pixels.
    pub(super) fn height(&self) -> f64 {
        self.bottom - self.top
    }
}

/// A chart document being written.
#[derive(Debug)]
pub(super) struct Canvas {
    /// The SVG so far.
    pub(super) svg: String,
    /// Width in pixels, after clamping.
    pub(super) width: f64,
    /// Height in pixels, after clamping.
    pub(super) height: f64,
}

impl Canvas {
    /// Starts a document of `size` (clamped to a minimum), titled `title`
    /// and summed up in one sentence by `summary` for screen readers.
    pub(super) fn open(size: Size, title: &str, summary: &str) -> Result<Self, fmt::Error> {
        let width = f64::from(size.width.max(MIN_WIDTH));
        let height = f64::from(size.height.max(MIN_HEIGHT));
        let mut svg = String::with_capacity(4096);
        write!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, sans-serif" font-size="{font}">"##,
            w = num(width),
            h = num(height),
            font = num(FONT_PX),
        )?;
        write!(
            svg,
            r##"<title id="chart-title">{}</title><desc id="chart-desc">{}</desc><rect class="background" width="{}" height="{}" fill="#ffffff"/>"##,
            escape(title),
            escape(summary),
            num(width),
            num(height),
        )?;
        // The full title is in <title>; the visible one is cut to the width.
        write!(
            svg,
            r##"<text class="chart-title" x="16" y="28" font-size="{}" font-weight="600" fill="{INK}">{}</text>"##,
            num(TITLE_PX),
            escape(&fit(title, usize::MAX, width - 32.0, TITLE_PX)),
        )?;
        Ok(Self { svg, width, height })
    }

    /// Ends the document.
    pub(super) fn close(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

/// A whole chart that has nothing to show: its title and "No data".
pub(super) fn no_data(size: Size, title: &str) -> Result<String, fmt::Error> {
    let mut canvas = Canvas::open(size, title, "No data.")?;
    let (x, y) = (canvas.width / 2.0, (canvas.height + PLOT_TOP) / 2.0);
    write!(
        canvas.svg,
        r##"<text class="no-data" x="{}" y="{}" text-anchor="middle" font-size="14" fill="{MUTED}">No data</text>"##,
        num(x),
        num(y),
    )?;
    Ok(canvas.close())
}

/// The finished document. Writing into a `String` cannot fail; the error
/// branches exist only because `fmt::Write` returns a `Result`, and still
/// answer a well-formed document instead of panicking.
pub(super) fn finish(drawn: Result<String, fmt::Error>, size: Size, title: &str) -> String {
    drawn
        .or_else(|_| no_data(size, title))
        .unwrap_or_else(|_| BLANK.to_owned())
}

/// How far from the left edge a plot with a value axis `scale` starts: room
/// for the tick labels and, when there is one, the axis title.
pub(super) fn value_axis_margin(scale: &Scale, has_label: bool) -> f64 {
    let widest = scale
        .labels()
        .iter()
        .map(|label| text_width(label, FONT_PX))
        .fold(0.0, f64::max);
    let label_room = if has_label { 22.0 } else { 0.0 };
    (12.0 + label_room + widest + 8.0).max(40.0)
}

/// Draws the value axis: a grid line and label per tick, a darker line at
/// zero, and the axis title turned up the left side.
pub(super) fn value_axis(
    svg: &mut String,
    scale: &Scale,
    plot: Plot,
    label: Option<&str>,
) -> fmt::Result {
    write!(
        svg,
        r##"<g class="y-axis" fill="{MUTED}" text-anchor="end">"##
    )?;
    for (tick, text) in scale.ticks.iter().zip(scale.labels()) {
        let y = num(scale.y(*tick, plot.top, plot.bottom));
        write!(
            svg,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID}"/><text class="tick" x="{}" y="{}">{}</text>"##,
            num(plot.left),
            num(plot.right),
            num(plot.left - 8.0),
            num(scale.y(*tick, plot.top, plot.bottom) + 4.0),
            escape(&text),
        )?;
    }
    // Drawn last so no grid line covers it: it is the baseline bars grow from
    // and the line that tells gains from losses.
    let zero = num(scale.y(0.0, plot.top, plot.bottom));
    write!(
        svg,
        r##"<line class="zero" x1="{}" y1="{zero}" x2="{}" y2="{zero}" stroke="{BASELINE}"/>"##,
        num(plot.left),
        num(plot.right),
    )?;
    if let Some(label) = label {
        let middle = (plot.top + plot.bottom) / 2.0;
        write!(
            svg,
            r##"<text class="y-label" x="16" y="{m}" transform="rotate(-90 16 {m})" text-anchor="middle" fill="{INK}">{}</text>"##,
            escape(&fit(label, usize::MAX, plot.height().max(40.0), FONT_PX)),
            m = num(middle),
        )?;
    }
    svg.push_str("</g>");
    Ok(())
}
