//! A grid of values shaded light to dark blue, such as weekday × hour for
//! "best time to post".

use std::fmt::{self, Write};

use super::canvas::{Canvas, FONT_PX, INK, MUTED, PLOT_TOP, Plot, finish, no_data};
use super::colour::{gradient_stops, shade};
use super::format::{compact, escape, fit, num, text_width};
use super::{Heatmap, Size};

/// Empty cells are hatched grey: unlike any blue, and no value to misread.
const NO_DATA_FILL: &str = "url(#heat-no-data)";
/// A row or column label needs this many pixels per cell to be shown for
/// every cell; otherwise every second, third… is.
const ROW_LABEL_PX: f64 = 14.0;
/// Room for the column labels between the title and the grid.
const COLUMN_LABELS_PX: f64 = 18.0;
/// Room for the legend under the grid.
const LEGEND_PX: f64 = 40.0;
const SCALE_WIDTH_PX: f64 = 120.0;

/// Draws a heatmap as an SVG document: a cell per row and column shaded
/// light (lowest) to dark blue (highest), hatched where there is no data,
/// each with a tooltip such as "Tue 14:00: 37".
pub fn heatmap(chart: &Heatmap, size: Size) -> String {
    finish(draw(chart, size), size, &chart.title)
}

/// The value at `row`, `column`; `None` for a hole, a short or ragged grid,
/// or a value that is not a number.
fn cell(chart: &Heatmap, row: usize, column: usize) -> Option<f64> {
    chart
        .values
        .get(row)
        .and_then(|values| values.get(column))
        .copied()
        .flatten()
        .filter(|v| v.is_finite())
}

fn draw(chart: &Heatmap, size: Size) -> Result<String, fmt::Error> {
    let (rows, columns) = (chart.rows.len(), chart.columns.len());
    let known: Vec<(usize, usize, f64)> = (0..rows)
        .flat_map(|r| (0..columns).map(move |c| (r, c)))
        .filter_map(|(r, c)| cell(chart, r, c).map(|v| (r, c, v)))
        .collect();
    // Strict comparisons: on a tie the first cell, row by row, is named.
    let highest = known
        .iter()
        .copied()
        .reduce(|best, k| if k.2 > best.2 { k } else { best });
    let lowest = known
        .iter()
        .copied()
        .reduce(|best, k| if k.2 < best.2 { k } else { best });
    let (Some(highest), Some(lowest)) = (highest, lowest) else {
        return no_data(size, &chart.title);
    };
    let name = |(r, c, _): (usize, usize, f64)| {
        let row = chart.rows.get(r).map_or("", String::as_str);
        let column = chart.columns.get(c).map_or("", String::as_str);
        format!("{row} {column}")
    };
    let mut summary = format!(
        "{rows} × {columns} grid; highest {} ({}); lowest {} ({})",
        compact(highest.2),
        name(highest),
        compact(lowest.2),
        name(lowest),
    );
    let missing = rows * columns - known.len();
    if missing > 0 {
        write!(
            summary,
            "; {missing} of {} cells without data",
            rows * columns
        )?;
    }
    let mut canvas = Canvas::open(size, &chart.title, &summary)?;

    let row_label_px = (canvas.width * 0.3).min(160.0);
    let row_labels: Vec<String> = chart
        .rows
        .iter()
        .map(|label| fit(label, usize::MAX, row_label_px, FONT_PX))
        .collect();
    let widest_row = row_labels
        .iter()
        .map(|l| text_width(l, FONT_PX))
        .fold(0.0, f64::max);
    let plot = Plot::new(
        16.0 + widest_row + 8.0,
        PLOT_TOP + COLUMN_LABELS_PX,
        canvas.width - 16.0,
        canvas.height - LEGEND_PX,
    );
    let (cell_w, cell_h) = (plot.width() / columns as f64, plot.height() / rows as f64);
    let (low, high) = (lowest.2, highest.2);
    let share = |value: f64| {
        if high > low {
            (value - low) / (high - low)
        } else {
            0.5
        }
    };

    write!(
        canvas.svg,
        r##"<defs><linearGradient id="heat-scale">{}</linearGradient><pattern id="heat-no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cccccc" stroke-width="2"/></pattern></defs>"##,
        gradient_stops()?,
    )?;

    let widest_column = chart
        .columns
        .iter()
        .map(|l| text_width(l, FONT_PX))
        .fold(0.0, f64::max);
    let column_stride = ((widest_column + 6.0) / cell_w).ceil().max(1.0) as usize;
    write!(
        canvas.svg,
        r##"<g class="column-labels" fill="{MUTED}" text-anchor="middle">"##
    )?;
    for (c, label) in chart.columns.iter().enumerate().step_by(column_stride) {
        write!(
            canvas.svg,
            r##"<text class="column-label" x="{}" y="{}">{}</text>"##,
            num(plot.left + cell_w * (c as f64 + 0.5)),
            num(plot.top - 6.0),
            escape(&fit(
                label,
                usize::MAX,
                cell_w * column_stride as f64 - 4.0,
                FONT_PX
            )),
        )?;
    }
    canvas.svg.push_str("</g>");

    let row_stride = (ROW_LABEL_PX / cell_h).ceil().max(1.0) as usize;
    write!(
        canvas.svg,
        r##"<g class="row-labels" fill="{MUTED}" text-anchor="end">"##
    )?;
    for (r, label) in row_labels.iter().enumerate().step_by(row_stride) {
        write!(
            canvas.svg,
            r##"<text class="row-label" x="{}" y="{}">{}</text>"##,
            num(plot.left - 8.0),
            num(plot.top + cell_h * (r as f64 + 0.5) + 4.0),
            escape(label),
        )?;
    }
    canvas.svg.push_str("</g>");

    // Values are written in the cells only when every one of them fits.
    let widest_value = known
        .iter()
        .map(|k| text_width(&compact(k.2), FONT_PX))
        .fold(0.0, f64::max);
    let show_values = widest_value + 6.0 <= cell_w && cell_h >= 16.0;
    // On tiny cells a white border would hide the colour.
    let border = if cell_w >= 6.0 && cell_h >= 6.0 {
        r##" stroke="#ffffff""##
    } else {
        ""
    };
    canvas.svg.push_str(r#"<g class="cells">"#);
    for (r, row) in chart.rows.iter().enumerate() {
        for (c, column) in chart.columns.iter().enumerate() {
            let (x, y) = (plot.left + cell_w * c as f64, plot.top + cell_h * r as f64);
            let value = cell(chart, r, c);
            let fill = value.map_or_else(|| NO_DATA_FILL.to_owned(), |v| shade(share(v)));
            write!(
                canvas.svg,
                r##"<rect class="cell" x="{}" y="{}" width="{}" height="{}" fill="{fill}"{border}><title>{} {}: {}</title></rect>"##,
                num(x),
                num(y),
                num(cell_w),
                num(cell_h),
                escape(row),
                escape(column),
                value.map_or_else(|| "no data".to_owned(), compact),
            )?;
            if let Some(v) = value.filter(|_| show_values) {
                // White on the darker half, where dark text would sink.
                let ink = if share(v) > 0.5 { "#ffffff" } else { INK };
                write!(
                    canvas.svg,
                    r##"<text class="cell-value" x="{}" y="{}" text-anchor="middle" fill="{ink}" pointer-events="none">{}</text>"##,
                    num(x + cell_w / 2.0),
                    num(y + cell_h / 2.0 + 4.0),
                    compact(v),
                )?;
            }
        }
    }
    canvas.svg.push_str("</g>");
    legend(&mut canvas.svg, plot, low, high, missing > 0)?;
    Ok(canvas.close())
}

/// The colour key: lowest value, the light-to-dark scale, highest value,
/// and a hatched swatch for "No data" when some cells have none.
fn legend(svg: &mut String, plot: Plot, low: f64, high: f64, has_holes: bool) -> fmt::Result {
    let (low_text, high_text) = (compact(low), compact(high));
    let top = plot.bottom + 14.0;
    let baseline = top + 9.0;
    let scale_x = plot.left + text_width(&low_text, FONT_PX) + 6.0;
    let after = scale_x + SCALE_WIDTH_PX + 6.0;
    write!(
        svg,
        r##"<g class="legend" fill="{MUTED}"><text class="legend-min" x="{}" y="{}">{}</text><rect x="{}" y="{}" width="{}" height="10" fill="url(#heat-scale)"/><text class="legend-max" x="{}" y="{}">{}</text>"##,
        num(plot.left),
        num(baseline),
        escape(&low_text),
        num(scale_x),
        num(top),
        num(SCALE_WIDTH_PX),
        num(after),
        num(baseline),
        escape(&high_text),
    )?;
    if has_holes {
        let swatch_x = after + text_width(&high_text, FONT_PX) + 24.0;
        write!(
            svg,
            r##"<rect x="{}" y="{}" width="14" height="10" fill="{NO_DATA_FILL}" stroke="#cccccc"/><text class="legend-no-data" x="{}" y="{}">No data</text>"##,
            num(swatch_x),
            num(top),
            num(swatch_x + 20.0),
            num(baseline),
        )?;
    }
    svg.push_str("</g>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{attr, by_class, first_text, parse, text_of, texts};
    use super::*;

    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

    /// A week of hours: Tuesday 14:00 is best, Sunday has no posts.
    fn best_time(column: impl Fn(usize) -> String) -> Heatmap {
        Heatmap {
            title: "Best time to post".to_owned(),
            rows: DAYS.map(str::to_owned).to_vec(),
            columns: (0..24).map(column).collect(),
            values: (0..7)
                .map(|d| {
                    (0..24)
                        .map(|h| match (d, h) {
                            (6, _) => None,
                            (1, 14) => Some(37.0),
                            _ => Some((d * 24 + h) as f64 / 10.0),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn a_week_of_hours_has_a_cell_and_tooltip_per_slot() {
        let svg = heatmap(&best_time(|h| format!("{h:02}:00")), Size::default());
        let doc = parse(&svg);
        let cells = by_class(&doc, "cell");
        assert_eq!(cells.len(), 7 * 24);
        let tooltip = |i: usize| text_of(cells[i].first_element_child().unwrap());
        assert_eq!(tooltip(24 + 14), "Tue 14:00: 37");
        assert_eq!(tooltip(0), "Mon 00:00: 0");
        assert_eq!(tooltip(6 * 24 + 5), "Sun 05:00: no data");
        assert_eq!(
            attr(cells[24 + 14], "fill"),
            "#08306b",
            "highest is darkest"
        );
        assert_eq!(attr(cells[0], "fill"), "#deebf7", "lowest is lightest");
        assert_eq!(attr(cells[6 * 24], "fill"), NO_DATA_FILL);
        assert_eq!(texts(&doc, "row-label"), DAYS);
        // "14:00" is wider than a 31 px cell: every second hour is labelled.
        let columns = texts(&doc, "column-label");
        assert_eq!(columns.len(), 12);
        assert_eq!(columns[..3], ["00:00", "02:00", "04:00"]);
        assert_eq!(texts(&doc, "legend-min"), ["0"]);
        assert_eq!(texts(&doc, "legend-max"), ["37"]);
        assert_eq!(texts(&doc, "legend-no-data"), ["No data"]);
        assert_eq!(
            first_text(&doc, "desc"),
            "7 × 24 grid; highest 37 (Tue 14:00); lowest 0 (Mon 00:00); 24 of 168 cells without data"
        );
    }

    #[test]
    fn short_labels_are_all_shown_and_values_written_when_they_fit() {
        // 47 px cells hold "14.3"; at 800 px (31 px cells) they would not.
        let svg = heatmap(
            &best_time(|h| format!("{h:02}")),
            Size {
                width: 1200,
                height: 400,
            },
        );
        let doc = parse(&svg);
        assert_eq!(texts(&doc, "column-label").len(), 24);
        let values = texts(&doc, "cell-value");
        assert_eq!(values.len(), 6 * 24, "none on empty cells");
        assert_eq!(values[24 + 14], "37");
        let narrow = heatmap(
            &best_time(|h| format!("{h:02}")),
            Size {
                width: 300,
                height: 200,
            },
        );
        let doc = parse(&narrow);
        assert!(by_class(&doc, "cell-value").is_empty());
        assert_eq!(texts(&doc, "column-label").len(), 8, "every third of 24");
    }

    #[test]
    fn a_grid_of_the_wrong_shape_counts_missing_cells_as_empty() {
        let chart = Heatmap {
            title: "Ragged".to_owned(),
            rows: vec!["A".to_owned(), "B".to_owned(), "C".to_owned()],
            columns: vec!["x".to_owned(), "y".to_owned()],
            values: vec![vec![Some(1.0), Some(2.0), Some(99.0)], vec![Some(f64::NAN)]],
        };
        let svg = heatmap(&chart, Size::default());
        let doc = parse(&svg);
        let tooltips: Vec<String> = by_class(&doc, "cell")
            .iter()
            .map(|c| text_of(c.first_element_child().unwrap()))
            .collect();
        assert_eq!(
            tooltips,
            [
                "A x: 1",
                "A y: 2",
                "B x: no data",
                "B y: no data",
                "C x: no data",
                "C y: no data"
            ]
        );
        assert_eq!(
            texts(&doc, "legend-max"),
            ["2"],
            "the value past the last column is ignored"
        );

        for empty in [
            Heatmap {
                rows: vec![],
                ..chart.clone()
            },
            Heatmap {
                columns: vec![],
                ..chart.clone()
            },
            Heatmap {
                values: vec![vec![None; 2]; 3],
                ..chart
            },
        ] {
            let svg = heatmap(&empty, Size::default());
            let doc = parse(&svg);
            assert_eq!(texts(&doc, "no-data"), ["No data"]);
            assert!(by_class(&doc, "cell").is_empty());
        }
    }
}
