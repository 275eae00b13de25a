//! Small statistics for reports: percentiles of durations and rates.

/// The `q`-quantile (0–1) of `values` by linear interpolation between the
/// closest ranks (the method spreadsheets call `PERCENTILE.INC`); `None`
/// for no values. Sorts `values`.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = q * (values.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (values.get(low)?, values.get(high)?);
    Some(a + (b - a) * (rank - low as f64))
}

/// `part / whole`, or `None` when there is no whole.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let mut v = vec![40.0, 10.0, 30.0, 20.0];
        assert_eq!(quantile(&mut v, 0.5), Some(25.0));
        assert_eq!(quantile(&mut v, 0.0), Some(10.0));
        assert_eq!(quantile(&mut v, 1.0), Some(40.0));
        assert!((quantile(&mut v, 0.9).unwrap() - 37.0).abs() < 1e-9);
        assert_eq!(quantile(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&mut [], 0.5), None);
        assert_eq!(quantile(&mut v, 1.5), None);
    }

    #[test]
    fn rates_need_a_whole() {
        assert_eq!(rate(3, 4), Some(0.75));
        assert_eq!(rate(0, 0), None);
    }
}
