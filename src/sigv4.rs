//! AWS Signature Version 4 for MCP endpoints behind IAM (API Gateway, Lambda function URLs,
//! VPC Lattice, AgentCore gateways): the headers that sign one request, with credentials from
//! the standard aws-config chain (environment, profiles, SSO, roles), the same chain the AWS
//! source uses. Every request is signed on its own, SSE reconnects included.

use std::time::SystemTime;

use aws_credential_types::{Credentials, provider::ProvideCredentials};
use aws_sigv4::{
    http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};
use tokio::sync::OnceCell;

use crate::fleet::SigV4;

/// The credential chain, resolved once per process (it may read files or call STS).
static CHAIN: OnceCell<Option<aws_credential_types::provider::SharedCredentialsProvider>> =
    OnceCell::const_new();

/// The AWS profile SigV4 credentials come from (`--profile` or `[aws] profile`), set before
/// the first signature; without one, the default chain decides (`AWS_PROFILE`, environment…).
static PROFILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the profile to sign with. Only the first call counts: the chain is resolved once.
pub fn use_profile(profile: Option<&str>) {
    if let Some(profile) = profile {
        let _ = PROFILE.set(profile.to_string());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no AWS credentials for SigV4 (set AWS_PROFILE or AWS_ACCESS_KEY_ID): {0}")]
    Credentials(String),
    #[error("cannot sign the request: {0}")]
    Signing(String),
}

async fn credentials() -> Result<Credentials, SignError> {
    let provider = CHAIN
        .get_or_init(|| async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(profile) = PROFILE.get() {
                loader = loader.profile_name(profile);
            }
            loader.load().await.credentials_provider()
        })
        .await
        .as_ref()
        .ok_or_else(|| SignError::Credentials("no credential provider".into()))?;
    provider
        .provide_credentials()
        .await
        .map_err(|error| SignError::Credentials(error.to_string()))
}

/// The headers that sign a `method` request to `url` carrying `body` (JSON, when there is
/// one): `authorization`, `x-amz-date`, `x-amz-content-sha256` and, for temporary
/// credentials, `x-amz-security-token`. The host and the content type are signed too.
pub async fn sign_request(
    target: &SigV4,
    method: &str,
    url: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    let host = host_of(url).ok_or_else(|| SignError::Signing(format!("{url} has no host")))?;
    let mut signed = vec![("host", host.as_str())];
    if !body.is_empty() {
        signed.push(("content-type", "application/json"));
    }
    signing_headers(target, method, url, &signed, body).await
}

/// `host[:port]` of `url`, as the Host header carries it.
pub fn host_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// The headers to add to a request so that `target` accepts it; `headers` are the ones to
/// sign besides the signer's own (`host` at least).
pub async fn signing_headers(
    target: &SigV4,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    let credentials = credentials().await?;
    headers_with(
        &credentials,
        target,
        SystemTime::now(),
        method,
        url,
        headers,
        body,
    )
}

/// [`signing_headers`] with given credentials and time: what a verifier recomputes.
pub fn headers_with(
    credentials: &Credentials,
    target: &SigV4,
    time: SystemTime,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    // VPC Lattice and S3-style services want the payload hash as a header; others ignore it.
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&target.region)
        .name(&target.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|error| SignError::Signing(error.to_string()))?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|error| SignError::Signing(error.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|error| SignError::Signing(error.to_string()))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|header| (header.name().to_string(), header.value().to_string()))
        .collect())
}

/// The signing name and region an endpoint's host implies, for the AWS endpoints MCP servers
/// sit behind: `….execute-api.REGION.amazonaws.com`, `….lambda-url.REGION.on.aws`,
/// `….vpc-lattice-svcs.REGION.on.aws`, `….gateway.bedrock-agentcore.REGION.amazonaws.com`.
pub fn target_from_host(host: &str) -> Option<SigV4> {
    let labels: Vec<&str> = host.split('.').collect();
    let find = |marker: &str, service: &str| {
        let at = labels.iter().position(|l| *l == marker)?;
        let region = labels.get(at + 1)?;
        Some(SigV4 {
            service: service.to_string(),
            region: region.to_string(),
        })
    };
    find("execute-api", "execute-api")
        .or_else(|| find("lambda-url", "lambda"))
        .or_else(|| find("vpc-lattice-svcs", "vpc-lattice-svcs"))
        .or_else(|| find("bedrock-agentcore", "bedrock-agentcore"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_comes_from_the_endpoint_host() {
        let target = |host| target_from_host(host).map(|t| (t.service, t.region));
        assert_eq!(
            target("abc123.execute-api.eu-west-1.amazonaws.com"),
            Some(("execute-api".into(), "eu-west-1".into()))
        );
        assert_eq!(
            target("xyz.lambda-url.us-east-2.on.aws"),
            Some(("lambda".into(), "us-east-2".into()))
        );
        assert_eq!(
            target("svc-0a1b.7d67968.vpc-lattice-svcs.us-west-2.on.aws"),
            Some(("vpc-lattice-svcs".into(), "us-west-2".into()))
        );
        assert_eq!(
            target("gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com"),
            Some(("bedrock-agentcore".into(), "us-east-1".into()))
        );
        assert_eq!(target("127.0.0.1"), None);
    }

    #[test]
    fn the_same_request_signs_the_same_and_a_changed_body_does_not() {
        let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", None, None, "test");
        let target = SigV4 {
            service: "execute-api".into(),
            region: "us-east-1".into(),
        };
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let url = "https://abc.execute-api.us-east-1.amazonaws.com/mcp";
        let host = [("host", "abc.execute-api.us-east-1.amazonaws.com")];
        let sign = |body: &[u8]| {
            headers_with(&credentials, &target, at, "POST", url, &host, body).unwrap()
        };
        let authorization = |headers: Vec<(String, String)>| {
            headers
                .into_iter()
                .find(|(name, _)| name == "authorization")
                .map(|(_, value)| value)
                .unwrap()
        };
        let first = authorization(sign(b"{\"a\":1}"));
        assert!(first.starts_with("AWS4-HMAC-SHA256 Credential="), "{first}");
        assert!(
            first.contains("/us-east-1/execute-api/aws4_request"),
            "{first}"
        );
        assert_eq!(first, authorization(sign(b"{\"a\":1}")));
        assert_ne!(first, authorization(sign(b"{\"a\":2}")));
    }
}
