//! Where ticks go on a value axis: round steps, zero always among them.

use super::format::tick_label;

/// At most this many intervals between value ticks, so at most 8 ticks; a
/// 1-2-5 step never jumps more than 2.5×, so at least 4 remain.
const MAX_INTERVALS: f64 = 7.0;

/// A value axis: round ticks (1, 2 or 5 × 10ⁿ apart) from at or below the
/// lowest value to at or above the highest, zero always among them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scale {
    /// Tick values, ascending.
    pub(super) ticks: Vec<f64>,
    /// The distance between two ticks.
    pub(super) step: f64,
}

impl Scale {
    /// The axis for values from `low` to `high`.
    pub(super) fn new(low: f64, high: f64) -> Self {
        // Zero is kept in view so bars grow from it and a line is not made to
        // look steeper than it is.
        let low = if low.is_finite() { low.min(0.0) } else { 0.0 };
        let high = if high.is_finite() { high.max(0.0) } else { 0.0 };
        let (low, high) = if high > low { (low, high) } else { (0.0, 1.0) };
        let span = high - low;
        if span.is_finite() {
            let mut base = 10f64.powi(span.log10().floor() as i32 - 2);
            for _ in 0..8 {
                for multiple in [1.0, 2.0, 5.0] {
                    let step = base * multiple;
                    // The epsilons keep 5.000000001 intervals from becoming 6.
                    let first = (low / step + 1e-9).floor();
                    let last = (high / step - 1e-9).ceil();
                    if last - first <= MAX_INTERVALS {
                        let ticks = (first as i64..=last as i64)
                            .map(|i| i as f64 * step)
                            .collect();
                        return Self { ticks, step };
                    }
                }
                base *= 10.0;
            }
        }
        // Only spans beyond f64 (or below its precision) get here.
        Self {
            ticks: vec![low, high],
            step: span,
        }
    }

    /// The lowest tick: the bottom of the plot.
    pub(super) fn min(&self) -> f64 {
        self.ticks.first().copied().unwrap_or(0.0)
    }

    /// The highest tick: the top of the plot.
    pub(super) fn max(&self) -> f64 {
        self.ticks.last().copied().unwrap_or(1.0)
    }

    /// The pixel row of `value` on a plot from `top` to `bottom`.
    pub(super) fn y(&self, value: f64, top: f64, bottom: f64) -> f64 {
        let (min, max) = (self.min(), self.max());
        let span = if max > min { max - min } else { 1.0 };
        bottom - (value - min) / span * (bottom - top)
    }

    /// The tick labels, in tick order.
    pub(super) fn labels(&self) -> Vec<String> {
        self.ticks
            .iter()
            .map(|tick| tick_label(*tick, self.step))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_are_round_and_include_zero() {
        let cases: [(f64, f64, &[&str]); 9] = [
            (0.0, 9.0, &["0", "2", "4", "6", "8", "10"]),
            (5.0, 10.0, &["0", "2", "4", "6", "8", "10"]),
            (-3.0, 7.0, &["-4", "-2", "0", "2", "4", "6", "8"]),
            (-50.0, -10.0, &["-50", "-40", "-30", "-20", "-10", "0"]),
            (0.0, 0.0, &["0", "0.2", "0.4", "0.6", "0.8", "1"]),
            (0.0, 0.37, &["0", "0.1", "0.2", "0.3", "0.4"]),
            (
                0.0,
                1234.0,
                &["0", "200", "400", "600", "800", "1k", "1.2k", "1.4k"],
            ),
            (
                0.0,
                3_400_000.0,
                &["0", "500k", "1M", "1.5M", "2M", "2.5M", "3M", "3.5M"],
            ),
            (
                f64::NAN,
                f64::INFINITY,
                &["0", "0.2", "0.4", "0.6", "0.8", "1"],
            ),
        ];
        for (low, high, expected) in cases {
            assert_eq!(
                Scale::new(low, high).labels(),
                expected,
                "Scale::new({low}, {high})"
            );
        }
    }

    #[test]
    fn every_span_gets_four_to_eight_ticks_around_its_data() {
        let mut checked = 0;
        for exponent in -4..=12 {
            for mantissa in [1.0, 1.3, 2.0, 2.7, 3.3, 4.9, 5.0, 7.1, 9.99] {
                let high = mantissa * 10f64.powi(exponent);
                for low in [0.0, -high / 3.0, -high] {
                    let scale = Scale::new(low, high);
                    let count = scale.ticks.len();
                    assert!((4..=8).contains(&count), "{low}..{high}: {:?}", scale.ticks);
                    assert!(
                        scale.ticks.contains(&0.0),
                        "{low}..{high}: {:?}",
                        scale.ticks
                    );
                    // The epsilon that keeps float noise from adding a tick may leave a
                    // value a billionth of a step outside: not a pixel.
                    let slack = scale.step * 1e-6;
                    assert!(
                        scale.min() <= low + slack && scale.max() >= high - slack,
                        "{low}..{high}: {:?}",
                        scale.ticks
                    );
                    let leading = scale.step / 10f64.powf(scale.step.log10().floor());
                    assert!(
                        [1.0, 2.0, 5.0].iter().any(|m| (leading - m).abs() < 1e-6),
                        "step {} of {low}..{high}",
                        scale.step
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 17 * 9 * 3);
    }

    #[test]
    fn value_axis_maps_ticks_to_the_plot_edges() {
        let scale = Scale::new(-3.0, 7.0);
        assert_eq!(scale.y(-4.0, 50.0, 350.0), 350.0);
        assert_eq!(scale.y(8.0, 50.0, 350.0), 50.0);
        assert!((scale.y(0.0, 50.0, 350.0) - 250.0).abs() < 1e-9);
        // Beyond f64 there is no round step, but no panic either.
        assert_eq!(Scale::new(-f64::MAX, f64::MAX).ticks.len(), 2);
    }
}
