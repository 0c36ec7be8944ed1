//! Small drawing helpers shared by views.

/// Unicode block characters for the last `width` values, scaled to the largest one.
pub fn sparkline_text<'a>(values: impl IntoIterator<Item = &'a u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<u64> = values.into_iter().copied().collect();
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    tail.iter()
        .map(|&v| BARS[(v * 7 + max / 2).checked_div(max).unwrap_or(0) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(super::sparkline_text(&[0, 1, 2, 4], 10), "▁▃▅█");
        assert_eq!(super::sparkline_text(&[0, 0], 10), "▁▁");
        assert_eq!(super::sparkline_text(&[1, 2, 3], 2), "▆█");
    }
}
