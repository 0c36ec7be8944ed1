//! The markdown table, the ratios against our server and the target lines.

use crate::load::RunResult;

pub struct Row {
    pub key: &'static str,
    pub label: &'static str,
    pub conc: usize,
    pub result: RunResult,
}

/// Targets: (peer key, minimum ratio ours ÷ peer in calls/s).
const TARGETS: [(&str, f64); 2] = [("node", 10.0), ("python", 20.0)];

fn rate(rows: &[Row], key: &str, conc: usize) -> Option<f64> {
    rows.iter()
        .find(|r| r.key == key && r.conc == conc)
        .map(|r| r.result.calls_per_sec())
}

fn label(rows: &[Row], key: &str) -> &'static str {
    rows.iter().find(|r| r.key == key).map_or("?", |r| r.label)
}

/// A ratio with enough digits to stay readable far below 1.
fn times(r: f64) -> String {
    match r {
        r if r >= 10.0 => format!("{r:.1}×"),
        r if r >= 0.1 => format!("{r:.2}×"),
        r => format!("{r:.4}×"),
    }
}

pub fn print(rows: &[Row]) {
    println!("| server | conc | calls/s | p50 ms | p99 ms | errors | ratio vs ours |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let calls = r.result.calls_per_sec();
        let ratio = match rate(rows, "ours", r.conc) {
            Some(ours) if calls > 0.0 => times(ours / calls),
            _ => "n/a".to_owned(),
        };
        let errors = if r.result.errors == 0 {
            "0".to_owned()
        } else {
            format!(
                "{} ({:.2} %)",
                r.result.errors,
                100.0 * r.result.error_rate()
            )
        };
        println!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {} | {} |",
            r.label,
            r.conc,
            calls,
            r.result.quantile_ms(0.50),
            r.result.quantile_ms(0.99),
            errors,
            ratio
        );
    }
    println!();
    println!(
        "ratio vs ours = our server's calls/s (session mode) ÷ this row's calls/s, same concurrency."
    );
    println!();
    let mut concs: Vec<usize> = rows.iter().map(|r| r.conc).collect();
    concs.sort_unstable();
    concs.dedup();
    for (peer, min) in TARGETS {
        for &conc in &concs {
            let Some(theirs) = rate(rows, peer, conc) else {
                continue;
            };
            let theirs = theirs.max(f64::MIN_POSITIVE);
            if let Some(ours) = rate(rows, "ours", conc) {
                let ratio = ours / theirs;
                let verdict = if ratio >= min { "PASS" } else { "FAIL" };
                println!(
                    "{verdict}: ours ≥ {min:.0}× {} at conc {conc}: measured {}",
                    label(rows, peer),
                    times(ratio)
                );
            }
            if let Some(stateless) = rate(rows, "ours-stateless", conc) {
                println!(
                    "  (info: --mode stateless vs {} at conc {conc}: {})",
                    label(rows, peer),
                    times(stateless / theirs)
                );
            }
        }
    }
    for r in rows.iter().filter(|r| r.result.errors > 0) {
        println!(
            "errors on {} at conc {}: first was: {}",
            r.label,
            r.conc,
            r.result.first_error.as_deref().unwrap_or("?")
        );
    }
}
