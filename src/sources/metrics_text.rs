//! Reads the series the console needs out of a replica's OpenMetrics text:
//! `mcpfleet_in_flight_calls`, `mcpfleet_tool_calls_total{tool,outcome}` and the buckets of
//! `mcpfleet_tool_call_duration_seconds{tool}`, summed over tools. A hand-written
//! reader of a few lines, because the text is simple and any server may send garbage: lines it
//! does not understand are skipped, and text without either series yields nothing.

use crate::fleet::Bucket;

const LATENCY_BUCKET: &str = "mcpfleet_tool_call_duration_seconds_bucket";

/// Load figures of one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scraped {
    pub in_flight: u64,
    pub calls: u64,
    /// Calls whose outcome was tool_error or protocol_error (cancelled is not an error).
    pub errors: u64,
    /// The latency histogram of every tool together, cumulative, sorted by bound.
    pub buckets: Vec<Bucket>,
}

pub fn parse(text: &str) -> Option<Scraped> {
    let mut scraped = Scraped::default();
    let mut seen = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(sample) = Sample::parse(line) else {
            continue;
        };
        let value = if sample.value.is_finite() && sample.value > 0.0 {
            sample.value as u64
        } else {
            0
        };
        match sample.name {
            "mcpfleet_in_flight_calls" => scraped.in_flight = value,
            "mcpfleet_tool_calls_total" => {
                scraped.calls += value;
                if matches!(
                    sample.label("outcome"),
                    Some("tool_error" | "protocol_error")
                ) {
                    scraped.errors += value;
                }
            }
            LATENCY_BUCKET => {
                let Some(le) = sample.label("le").and_then(bound) else {
                    continue;
                };
                match scraped.buckets.iter_mut().find(|b| b.le == le) {
                    Some(bucket) => bucket.count += value,
                    None => scraped.buckets.push(Bucket { le, count: value }),
                }
            }
            _ => continue,
        }
        seen = true;
    }
    scraped.buckets.sort_by(|a, b| a.le.total_cmp(&b.le));
    seen.then_some(scraped)
}

/// A bucket's `le`: a number, or `+Inf` for the bucket of every call.
fn bound(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        _ => text.parse().ok().filter(|le: &f64| le.is_finite()),
    }
}

struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, &'a str)>,
    value: f64,
}

impl<'a> Sample<'a> {
    /// `name{key="value",…} value [timestamp]`; label values may contain escaped quotes.
    fn parse(line: &'a str) -> Option<Self> {
        let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
        let name = &line[..name_end];
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let close = closing_brace(body)?;
            labels = parse_labels(&body[..close])?;
            rest = &body[close + 1..];
        }
        let value = rest.split_whitespace().next()?.parse().ok()?;
        Some(Self {
            name,
            labels,
            value,
        })
    }

    fn label(&self, key: &str) -> Option<&'a str> {
        self.labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Index of the `}` that closes the label set, skipping braces inside quoted values.
fn closing_brace(body: &str) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (index, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return Some(index),
            _ => {}
        }
    }
    None
}

/// Label values are returned raw (escapes kept): the values compared here have none.
fn parse_labels(body: &str) -> Option<Vec<(&str, &str)>> {
    let mut labels = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start().strip_prefix('"')?;
        let mut end = None;
        let mut escaped = false;
        for (index, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        labels.push((key.trim(), &after[..end]));
        rest = after[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_flight_and_calls_by_outcome() {
        let text = "# HELP mcpfleet_in_flight_calls Tool calls being served now.\n\
            # TYPE mcpfleet_in_flight_calls gauge\n\
            mcpfleet_in_flight_calls 2\n\
            mcpfleet_tool_calls_total{tool=\"echo\",outcome=\"ok\"} 7\n\
            mcpfleet_tool_calls_total{tool=\"fail\",outcome=\"tool_error\"} 2\n\
            mcpfleet_tool_calls_total{tool=\"x\",outcome=\"protocol_error\"} 1 1700000000\n\
            mcpfleet_tool_calls_total{outcome=\"cancelled\",tool=\"sleep\"} 1\n\
            mcpfleet_tool_calls_created{tool=\"echo\",outcome=\"ok\"} 1700000000.5\n\
            mcpfleet_build_info{version=\"0.1.0\",revision=\"unknown\"} 1\n\
            # EOF\n";
        assert_eq!(
            parse(text),
            Some(Scraped {
                in_flight: 2,
                calls: 11,
                errors: 3,
                buckets: Vec::new(),
            })
        );
    }

    #[test]
    fn sums_the_latency_buckets_of_every_tool() {
        let text = "mcpfleet_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.001\"} 5\n\
            mcpfleet_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"+Inf\"} 6\n\
            mcpfleet_tool_call_duration_seconds_sum{tool=\"echo\"} 0.01\n\
            mcpfleet_tool_call_duration_seconds_count{tool=\"echo\"} 6\n\
            mcpfleet_tool_call_duration_seconds_bucket{tool=\"sleep\",le=\"+Inf\"} 2\n\
            mcpfleet_tool_call_duration_seconds_bucket{tool=\"sleep\",le=\"0.001\"} 0\n\
            mcpfleet_tool_call_duration_seconds_bucket{tool=\"x\",le=\"soon\"} 9\n";
        let buckets = parse(text).unwrap().buckets;
        let expected = [
            Bucket {
                le: 0.001,
                count: 5,
            },
            Bucket {
                le: f64::INFINITY,
                count: 8,
            },
        ];
        assert_eq!(buckets, expected);
    }

    #[test]
    fn quoted_braces_and_escapes_do_not_confuse_it() {
        let text = "mcpfleet_tool_calls_total{tool=\"we}i\\\"rd\",outcome=\"tool_error\"} 4\n";
        assert_eq!(
            parse(text),
            Some(Scraped {
                in_flight: 0,
                calls: 4,
                errors: 4,
                buckets: Vec::new(),
            })
        );
    }

    #[test]
    fn garbage_yields_nothing() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("<html><body>Not Found</body></html>"), None);
        assert_eq!(
            parse("mcpfleet_in_flight_calls\nmcpfleet_tool_calls_total{tool=\"a\" 3"),
            None
        );
        assert_eq!(parse("{\"error\":\"no\"}\nhttp_requests_total 5"), None);
        let negative = parse("mcpfleet_in_flight_calls -1\n").unwrap();
        assert_eq!(negative.in_flight, 0);
    }
}
