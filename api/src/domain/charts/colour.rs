//! Colours: a palette to tell series apart and a scale to order values, both
//! readable with the common colour-vision deficiencies.

use std::fmt::{self, Write};

use super::format::num;

/// Okabe–Ito: told apart with every common colour-vision deficiency.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// The colour of the `index`th series, the palette over again past its end.
pub(super) fn series_colour(index: usize) -> &'static str {
    PALETTE
        .get(index % PALETTE.len())
        .copied()
        .unwrap_or("#000000")
}

/// ColorBrewer "Blues" from its second step: one hue, lightness falling
/// evenly, so order reads without a key and without colour vision; the
/// lightest step is still blue enough to tell from an empty cell.
const BLUES: [(u8, u8, u8); 8] = [
    (0xde, 0xeb, 0xf7),
    (0xc6, 0xdb, 0xef),
    (0x9e, 0xca, 0xe1),
    (0x6b, 0xae, 0xd6),
    (0x42, 0x92, 0xc6),
    (0x21, 0x71, 0xb5),
    (0x08, 0x51, 0x9c),
    (0x08, 0x30, 0x6b),
];

/// The colour at `share` (0 lowest, 1 highest) along [`BLUES`].
pub(super) fn shade(share: f64) -> String {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let position = share * (BLUES.len() - 1) as f64;
    let index = (position.floor() as usize).min(BLUES.len() - 2);
    let within = position - index as f64;
    let (from, to) = match (BLUES.get(index), BLUES.get(index + 1)) {
        (Some(from), Some(to)) => (*from, *to),
        _ => return "#08306b".to_owned(),
    };
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * within).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(from.0, to.0),
        mix(from.1, to.1),
        mix(from.2, to.2)
    )
}

/// The `<stop>`s of a gradient along [`BLUES`], for the heatmap's key.
pub(super) fn gradient_stops() -> Result<String, fmt::Error> {
    let mut stops = String::new();
    for i in 0..BLUES.len() {
        let share = i as f64 / (BLUES.len() - 1) as f64;
        write!(
            stops,
            r#"<stop offset="{}" stop-color="{}"/>"#,
            num(share),
            shade(share)
        )?;
    }
    Ok(stops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_colours_cycle_through_okabe_ito() {
        let colours: Vec<&str> = (0..10).map(series_colour).collect();
        assert_eq!(
            colours,
            [
                "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                "#000000", "#0072B2", "#E69F00"
            ]
        );
    }

    #[test]
    fn darker_means_more() {
        let shades: Vec<String> = [0.0, 0.25, 0.5, 0.75, 1.0].into_iter().map(shade).collect();
        let lightness = |hex: &str| {
            (1..7)
                .step_by(2)
                .map(|i| u32::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .sum::<u32>()
        };
        assert_eq!(shades[0], "#deebf7");
        assert_eq!(shades[4], "#08306b");
        assert!(
            shades
                .windows(2)
                .all(|w| lightness(&w[0]) > lightness(&w[1])),
            "{shades:?}"
        );
        assert_eq!(shade(-3.0), "#deebf7");
        assert_eq!(shade(f64::NAN), "#deebf7");
    }
}
