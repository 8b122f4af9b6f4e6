//! Medians and percentiles.

/// The median of `xs` (mean of the middle two for an even count); `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The `q`-quantile (0..=1) of sorted samples, nearest rank.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The percentiles reported for every latency measurement.
pub const PERCENTILES: [(f64, &str); 4] = [
    (0.50, "p50"),
    (0.90, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
];

/// p50, p90, p99, p99.9 of one run's samples, in nanoseconds.
pub fn percentiles(samples: &[u64]) -> [u64; 4] {
    let mut s = samples.to_vec();
    s.sort_unstable();
    PERCENTILES.map(|(q, _)| quantile(&s, q))
}

/// Interquartile range over median: how noisy the runs were, robust to one bad run.
pub fn spread(xs: &[f64]) -> Option<f64> {
    let m = median(xs)?;
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    (m > 0.0).then(|| (q(0.75) - q(0.25)) / m)
}
