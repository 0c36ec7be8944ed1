//! Service Connect traffic from CloudWatch: one batched GetMetricData per refresh for every
//! service (up to 500 queries per call), per-minute points over the last half hour.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime},
};

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::DateTime;

use super::{client::AwsError, ecs::Calls};
use crate::fleet::Traffic;

const WINDOW: Duration = Duration::from_secs(30 * 60);
const PERIOD_SECS: i32 = 60;
/// The time between two points of a series.
pub const PERIOD: Duration = Duration::from_secs(PERIOD_SECS as u64);
const QUERIES_PER_CALL: usize = 500;
/// (metric, statistic) in the order of `Traffic`'s series.
const METRICS: [(&str, &str); 4] = [
    ("ActiveConnectionCount", "Average"),
    ("RequestCount", "Sum"),
    ("HTTPCode_Target_5XX_Count", "Sum"),
    ("TargetResponseTime", "Average"),
];

/// A service whose Service Connect metrics to fetch.
#[derive(Debug, Clone)]
pub struct Target {
    pub key: String,
    pub cluster: String,
    pub service: String,
    pub discovery_name: String,
}

fn query(id: String, target: &Target, metric: &str, stat: &str) -> MetricDataQuery {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/ECS")
                        .metric_name(metric)
                        .dimensions(dimension("ClusterName", &target.cluster))
                        .dimensions(dimension("ServiceName", &target.service))
                        .dimensions(dimension("DiscoveryName", &target.discovery_name))
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

pub async fn traffic(
    calls: &Calls<'_>,
    targets: &[Target],
) -> Result<HashMap<String, Traffic>, AwsError> {
    let now = SystemTime::now();
    let mut queries = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        for (series, (metric, stat)) in METRICS.iter().enumerate() {
            queries.push(query(format!("s{index}m{series}"), target, metric, stat));
        }
    }
    let mut points: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    for chunk in queries.chunks(QUERIES_PER_CALL) {
        let mut token = None;
        loop {
            calls.spend()?;
            let answer = calls
                .clients
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(chunk.to_vec()))
                .start_time(DateTime::from(now - WINDOW))
                .end_time(DateTime::from(now))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudwatch:GetMetricData", e))?;
            for result in answer.metric_data_results() {
                let Some(id) = result.id() else { continue };
                let series = points.entry(id.to_string()).or_default();
                series.extend(
                    result
                        .timestamps()
                        .iter()
                        .map(|t| t.secs())
                        .zip(result.values().iter().copied()),
                );
            }
            token = answer.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    let mut series = |index: usize, metric: usize| {
        let mut found = points
            .remove(&format!("s{index}m{metric}"))
            .unwrap_or_default();
        found.sort_by_key(|(at, _)| *at);
        found
            .into_iter()
            .map(|(_, value)| value)
            .collect::<Vec<f64>>()
    };
    let mut traffic = HashMap::new();
    for (index, target) in targets.iter().enumerate() {
        traffic.insert(
            target.key.clone(),
            Traffic {
                active_connections: series(index, 0),
                requests: series(index, 1),
                errors_5xx: series(index, 2),
                response_ms: series(index, 3),
                fetched_at: now,
            },
        );
    }
    Ok(traffic)
}
