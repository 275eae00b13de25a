//! Which series is which colour: swatches and names in rows under a chart.

use std::fmt::{self, Write};

use super::canvas::{FONT_PX, INK, MUTED};
use super::format::{escape, fit, num, text_width};

/// Rows before the rest is summed up as "+N more", so a chart with fifty
/// series still has room for its plot.
const MAX_ROWS: usize = 3;
const ROW_PX: f64 = 20.0;
/// Swatch and the gap before its name.
const SWATCH_PX: f64 = 24.0;
/// Between two entries.
const GAP_PX: f64 = 16.0;
/// Room kept on the last row for "+N more".
const MORE_PX: f64 = 80.0;
/// The longest name shown; the full one is in the line's tooltip.
const MAX_NAME_PX: f64 = 160.0;

/// A legend laid out to a width, ready to draw.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Legend {
    entries: Vec<Entry>,
    /// Entries that did not fit in the rows.
    hidden: usize,
    /// Where "+N more" goes on the last row.
    more_x: f64,
}

#[derive(Debug, PartialEq)]
struct Entry {
    name: String,
    colour: &'static str,
    x: f64,
    row: usize,
}

impl Legend {
    /// Lays out `(name, colour)` entries in rows `width` pixels wide.
    pub(super) fn layout(entries: &[(String, &'static str)], width: f64) -> Self {
        let name_px = (width - SWATCH_PX - MORE_PX).clamp(20.0, MAX_NAME_PX);
        let names: Vec<(String, &'static str)> = entries
            .iter()
            .map(|(name, colour)| (fit(name, usize::MAX, name_px, FONT_PX), *colour))
            .collect();
        let legend = Self::place(&names, width, 0.0);
        if legend.hidden == 0 {
            legend
        } else {
            Self::place(&names, width, MORE_PX)
        }
    }

    /// Fills rows left to right, keeping `reserve` pixels free on the last.
    fn place(names: &[(String, &'static str)], width: f64, reserve: f64) -> Self {
        let room = |row: usize| {
            if row + 1 == MAX_ROWS {
                width - reserve
            } else {
                width
            }
        };
        let mut legend = Self::default();
        let (mut x, mut row) = (0.0, 0);
        for (i, (name, colour)) in names.iter().enumerate() {
            let entry_px = SWATCH_PX + text_width(name, FONT_PX);
            if x > 0.0 && x + entry_px > room(row) {
                row += 1;
                x = 0.0;
            }
            if row >= MAX_ROWS {
                legend.hidden = names.len() - i;
                break;
            }
            legend.entries.push(Entry {
                name: name.clone(),
                colour,
                x,
                row,
            });
            x += entry_px + GAP_PX;
            legend.more_x = x;
        }
        legend
    }

    /// Pixels it takes up, nothing when it is empty.
    pub(super) fn height(&self) -> f64 {
        self.entries
            .iter()
            .map(|e| e.row + 1)
            .max()
            .map_or(0.0, |rows| rows as f64 * ROW_PX)
    }

    /// Draws it with its first row's top at (`left`, `top`).
    pub(super) fn draw(&self, svg: &mut String, left: f64, top: f64) -> fmt::Result {
        if self.entries.is_empty() {
            return Ok(());
        }
        write!(svg, r##"<g class="legend" fill="{INK}">"##)?;
        let baseline = |row: usize| top + row as f64 * ROW_PX + 12.0;
        for entry in &self.entries {
            let (x, y) = (left + entry.x, baseline(entry.row));
            write!(
                svg,
                r##"<g class="legend-entry"><line x1="{}" y1="{y4}" x2="{}" y2="{y4}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text></g>"##,
                num(x),
                num(x + 18.0),
                entry.colour,
                num(x + SWATCH_PX),
                num(y),
                escape(&entry.name),
                y4 = num(y - 4.0),
            )?;
        }
        if self.hidden > 0 {
            write!(
                svg,
                r##"<text class="legend-more" x="{}" y="{}" fill="{MUTED}">+{} more</text>"##,
                num(left + self.more_x),
                num(baseline(MAX_ROWS - 1)),
                self.hidden,
            )?;
        }
        svg.push_str("</g>");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(names: &[&str]) -> Vec<(String, &'static str)> {
        names.iter().map(|n| ((*n).to_owned(), "#0072B2")).collect()
    }

    fn rows(legend: &Legend) -> Vec<(String, usize)> {
        legend
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.row))
            .collect()
    }

    #[test]
    fn entries_wrap_into_rows_and_the_rest_is_counted() {
        // Each "Channel  N" entry is 24 + 10 × 7.2 = 96 px, 112 px with its gap.
        let names: Vec<String> = (1..=12).map(|n| format!("Channel {n:>2}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let wide = Legend::layout(&entries(&names[..3]), 736.0);
        assert_eq!(wide.hidden, 0);
        assert_eq!(wide.height(), 20.0);
        assert_eq!(
            rows(&wide).iter().map(|r| r.1).collect::<Vec<_>>(),
            [0, 0, 0]
        );

        let narrow = Legend::layout(&entries(&names), 300.0);
        let placed: Vec<usize> = rows(&narrow).iter().map(|r| r.1).collect();
        // Two per row (224 + 96 > 300); the last row keeps 80 px for
        // "+N more" and two entries (208 px) still fit in its 220.
        assert_eq!(placed, [0, 0, 1, 1, 2, 2]);
        assert_eq!(narrow.hidden, 6);
        assert_eq!(narrow.height(), 60.0);
        let mut svg = String::new();
        narrow.draw(&mut svg, 16.0, 300.0).unwrap();
        assert!(svg.contains(">+6 more</text>"), "{svg}");
    }

    #[test]
    fn long_names_are_cut_and_an_empty_legend_draws_nothing() {
        let legend = Legend::layout(
            &entries(&["An extremely long series name that goes on"]),
            736.0,
        );
        assert_eq!(rows(&legend), [("An extremely long ser…".to_owned(), 0)]);
        let mut svg = String::new();
        Legend::default().draw(&mut svg, 0.0, 0.0).unwrap();
        assert_eq!(svg, "");
        assert_eq!(Legend::default().height(), 0.0);
    }
}
