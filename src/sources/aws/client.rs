//! The four AWS clients of one source, built from the standard configuration chain with the
//! console's overrides, sharing one attempt counter; and the errors they produce, in words an
//! operator can act on.

use std::{sync::Arc, time::Duration};

use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{Intercept, context::BeforeTransmitInterceptorContextMut},
        orchestrator::HttpResponse,
        result::SdkError,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::{config_bag::ConfigBag, error::display::DisplayErrorContext};

use super::{
    AwsSettings,
    counters::{ApiCounters, CountingInterceptor},
};

/// Attempts per operation: one retry for a blip; longer backoff belongs to the scheduler,
/// which can keep showing the last data meanwhile.
pub const MAX_ATTEMPTS: u32 = 2;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum AwsError {
    /// Set-up problems: no region, no credentials, unknown profile or cluster.
    #[error("{0}")]
    Config(String),
    #[error(
        "AWS credentials have expired ({0}); renew them (e.g. `aws sso login` or a new session \
         token) and the console picks them up on its next refresh"
    )]
    Expired(String),
    #[error("{operation}: {code}: {message}")]
    Api {
        operation: String,
        code: String,
        message: String,
    },
    #[error("{operation}: {message}")]
    Transport { operation: String, message: String },
    #[error("this refresh's API call budget is spent; the rest waits for the next one")]
    Budget,
}

impl AwsError {
    pub fn is_throttling(&self) -> bool {
        matches!(self, AwsError::Api { code, .. } if code.contains("Throttl")
            || code == "TooManyRequestsException" || code == "RequestLimitExceeded")
    }

    /// The error code AWS returned, when it answered at all.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn from_sdk<E>(operation: &str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let operation = operation.to_string();
        match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let code = inner.code().unwrap_or("UnknownError").to_string();
                let message = inner
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("HTTP {}", service.raw().status().as_u16()));
                if matches!(
                    code.as_str(),
                    "ExpiredTokenException" | "ExpiredToken" | "RequestExpired"
                ) {
                    return AwsError::Expired(code);
                }
                if matches!(
                    code.as_str(),
                    "UnrecognizedClientException"
                        | "InvalidClientTokenId"
                        | "AccessDeniedException"
                ) {
                    return AwsError::Api {
                        operation,
                        code,
                        message: format!(
                            "{message} (check the credentials' identity and IAM policy)"
                        ),
                    };
                }
                AwsError::Api {
                    operation,
                    code,
                    message,
                }
            }
            SdkError::TimeoutError(_) => AwsError::Transport {
                operation,
                message: "timed out".into(),
            },
            _ => {
                let chain = DisplayErrorContext(&error).to_string();
                if chain.contains("expired") && chain.contains("credential") {
                    return AwsError::Expired("the credential provider says so".into());
                }
                if chain.contains("no credentials") || chain.contains("credentials provider") {
                    return AwsError::Config(format!(
                        "no usable AWS credentials ({chain}); set AWS_PROFILE or pass --profile, \
                         or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                    ));
                }
                AwsError::Transport {
                    operation,
                    message: chain,
                }
            }
        }
    }
}

pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub cloudmap: aws_sdk_servicediscovery::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub counters: Arc<ApiCounters>,
    pub region: String,
}

/// A region name as AWS spells them (`us-east-1`, `us-gov-west-1`, `eu-central-2`).
fn plausible_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

pub async fn connect(settings: &AwsSettings) -> Result<Clients, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(25))
                .build(),
        );
    if let Some(profile) = &settings.profile {
        // As with the AWS CLI, a named profile wins over credentials in the environment.
        let credentials = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        loader = loader
            .profile_name(profile)
            .credentials_provider(credentials);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
        AwsError::Config(
            "no AWS region: pass --region, set AWS_REGION, or set region in your AWS profile"
                .into(),
        )
    })?;
    if !plausible_region(&region) {
        return Err(AwsError::Config(format!(
            "{region:?} is not an AWS region name (like us-east-1); check --region / AWS_REGION"
        )));
    }
    check_credentials(&config, settings.profile.as_deref()).await?;
    // Set when the endpoint is not AWS's own (an emulator, a proxy): from the flag, the
    // config file or AWS_ENDPOINT_URL.
    let endpoint_url = config.endpoint_url().map(str::to_string);
    let counters = Arc::new(ApiCounters::default());
    let counting = CountingInterceptor(counters.clone());
    let prefix = endpoint_url.clone().map(HostPrefixStripper::new);
    macro_rules! client {
        ($sdk:ident) => {{
            let mut builder = $sdk::config::Builder::from(&config).interceptor(counting.clone());
            if let Some(stripper) = prefix.clone() {
                builder = builder.interceptor(stripper);
            }
            $sdk::Client::from_conf(builder.build())
        }};
    }
    Ok(Clients {
        ecs: client!(aws_sdk_ecs),
        cloudmap: client!(aws_sdk_servicediscovery),
        logs: client!(aws_sdk_cloudwatchlogs),
        cloudwatch: client!(aws_sdk_cloudwatch),
        counters,
        region,
    })
}

/// Resolves credentials once up front, so a missing profile or an empty chain is one clear
/// message instead of an error on every call.
async fn check_credentials(
    config: &aws_config::SdkConfig,
    profile: Option<&str>,
) -> Result<(), AwsError> {
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = config.credentials_provider() else {
        return Err(AwsError::Config(
            "no AWS credential provider is configured".into(),
        ));
    };
    match provider.provide_credentials().await {
        Ok(credentials) => match credentials.expiry() {
            Some(expiry) if expiry <= std::time::SystemTime::now() => {
                Err(AwsError::Expired("the session's expiry has passed".into()))
            }
            _ => Ok(()),
        },
        Err(error) => {
            use aws_credential_types::provider::error::CredentialsError;
            // "Not loaded" only says that no provider had any; the hint says more.
            let chain = match &error {
                CredentialsError::CredentialsNotLoaded(_) => String::new(),
                other => format!(" ({})", DisplayErrorContext(other)),
            };
            let hint = match profile {
                Some(name) => format!(
                    "AWS profile {name:?} gave no credentials{chain}; check ~/.aws/config and \
                     ~/.aws/credentials, or run `aws sso login --profile {name}`"
                ),
                None => format!(
                    "no AWS credentials found{chain}; set AWS_PROFILE or pass --profile, or \
                     export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ),
            };
            Err(AwsError::Config(hint))
        }
    }
}

/// Some operations put a host prefix on the endpoint (`data-` for Cloud Map's
/// DiscoverInstances, `streaming-` for Logs' StartLiveTail), and the SDK has no switch to turn it
/// off. Against a custom endpoint (an emulator, a proxy) that name does not resolve, so the
/// request goes to the configured host instead. Installed only when a custom endpoint is set.
#[derive(Debug, Clone)]
struct HostPrefixStripper {
    authority: String,
}

impl HostPrefixStripper {
    fn new(endpoint_url: String) -> Self {
        Self {
            authority: authority_of(&endpoint_url).to_string(),
        }
    }
}

/// `host:port` of `scheme://host:port/path`.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

impl Intercept for HostPrefixStripper {
    fn name(&self) -> &'static str {
        "mcpfleet-host-prefix-stripper"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri().to_string();
        let authority = authority_of(&uri);
        if authority != self.authority && authority.ends_with(&self.authority) {
            let fixed = uri.replacen(authority, &self.authority, 1);
            context.request_mut().set_uri(fixed)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(plausible_region(good), "{good}");
        }
        for bad in ["useast1", "us-east", "US-EAST-1", "nowhere", "us--1", ""] {
            assert!(!plausible_region(bad), "{bad}");
        }
    }

    #[test]
    fn authority_is_host_and_port() {
        assert_eq!(authority_of("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(
            authority_of("http://data-127.0.0.1:5000/x?y"),
            "data-127.0.0.1:5000"
        );
        assert_eq!(
            authority_of("https://ecs.us-east-1.amazonaws.com/"),
            "ecs.us-east-1.amazonaws.com"
        );
    }
}
