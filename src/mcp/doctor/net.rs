//! The doctor's first steps, below HTTP: the URL's host resolved, a TCP connection to the
//! first address that answers, and for https the TLS handshake, verified as reqwest verifies
//! (rustls with the platform's verifier). A certificate the verifier refuses is also checked
//! for the host name on its own, so a wrong name is named even when the issuer is unknown too.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use tokio::net::TcpStream;

use super::{Step, StepName};

/// How long a name may take to resolve.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the TLS handshake may take once connected.
const TLS_TIMEOUT: Duration = Duration::from_secs(5);

/// The parts of an endpoint's URL the low-level steps need.
pub(super) struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// The host is an IP address: nothing to resolve.
    pub literal: bool,
    /// `scheme://host:port`, where `/healthz` is asked for.
    pub origin: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, Step> {
        let bad = |why: String| {
            Step::failed(
                StepName::Dns,
                Instant::now(),
                why,
                "check the endpoint's URL: it must be http:// or https:// with a host",
            )
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
        let tls = match parsed.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(bad(format!("scheme {other} is not http or https"))),
        };
        let Some(host) = parsed.host_str() else {
            return Err(bad("no host in the URL".into()));
        };
        // An IPv6 address comes in brackets.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let literal = host.parse::<std::net::IpAddr>().is_ok();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let origin = parsed.origin().ascii_serialization();
        Ok(Self {
            host,
            port,
            tls,
            literal,
            origin,
        })
    }
}

/// The addresses to connect to, and the DNS step (skipped for an IP address).
pub(super) async fn resolve(target: &Target) -> (Step, Vec<SocketAddr>) {
    let started = Instant::now();
    if target.literal {
        let ip: std::net::IpAddr = target.host.parse().expect("a literal host is an IP");
        let step = Step::skipped(StepName::Dns, format!("{} is an IP address", target.host));
        return (step, vec![SocketAddr::new(ip, target.port)]);
    }
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    let hint = "check the host name: the Service Connect or Cloud Map discovery name, that \
                the service is registered in the namespace, and that this machine uses the \
                VPC's DNS (or a tunnel to it)";
    let failed = |detail: String| Step::failed(StepName::Dns, started, detail, hint);
    match tokio::time::timeout(DNS_TIMEOUT, lookup).await {
        Ok(Ok(addresses)) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() {
                return (failed(format!("{} has no address", target.host)), addresses);
            }
            let ips: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
            let detail = format!("{} → {}", target.host, ips.join(", "));
            (Step::ok(StepName::Dns, started, detail), addresses)
        }
        Ok(Err(error)) => (
            failed(format!("{} does not resolve: {error}", target.host)),
            vec![],
        ),
        Err(_) => (
            failed(format!("no DNS answer within {DNS_TIMEOUT:?}")),
            vec![],
        ),
    }
}

/// A connection to the first address that takes one, tried in order.
pub(super) async fn connect(
    addresses: &[SocketAddr],
    timeout: Duration,
) -> (Step, Option<TcpStream>) {
    let started = Instant::now();
    let mut refused = Vec::new();
    let mut silent = Vec::new();
    let mut other = Vec::new();
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                let step = Step::ok(StepName::Tcp, started, format!("connected to {address}"));
                return (step, Some(stream));
            }
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused.push(address.to_string())
            }
            Ok(Err(error)) => other.push(format!("{address}: {error}")),
            Err(_) => silent.push(address.to_string()),
        }
    }
    let (detail, hint) = if !refused.is_empty() {
        (
            format!(
                "connection refused by {}: nothing listening",
                refused.join(", ")
            ),
            "check that the task is running, that the server listens on the container port, \
             and the port mapping (the Service Connect port name) that leads to it",
        )
    } else if !silent.is_empty() {
        (
            format!("no answer from {} within {timeout:?}", silent.join(", ")),
            "packets are dropped on the way: check the task's security group (inbound on the \
             container port from here), the network ACLs, and that the address is routable \
             from this machine",
        )
    } else {
        (
            other.join("; "),
            "check that this machine has a route to the task's network",
        )
    };
    (Step::failed(StepName::Tcp, started, detail, hint), None)
}

/// The TLS handshake over `stream`, verified as reqwest verifies.
pub(super) async fn handshake(target: &Target, stream: TcpStream) -> Step {
    let started = Instant::now();
    let name = match ServerName::try_from(target.host.clone()) {
        Ok(name) => name,
        Err(error) => {
            let detail = format!("{} cannot be a TLS server name: {error}", target.host);
            return Step::failed(StepName::Tls, started, detail, "check the URL's host");
        }
    };
    let verifier = match NameChecking::platform() {
        Ok(verifier) => Arc::new(verifier),
        Err(error) => {
            let detail = format!("no certificate verifier: {error}");
            let hint = "check the system's trust store (or SSL_CERT_FILE)";
            return Step::failed(StepName::Tls, started, detail, hint);
        }
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|builder| {
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth()
        });
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            let hint = "a build of the console without TLS 1.2/1.3";
            return Step::failed(StepName::Tls, started, error.to_string(), hint);
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let shake = connector.connect(name, stream);
    match tokio::time::timeout(TLS_TIMEOUT, shake).await {
        Ok(Ok(tls)) => {
            let (_, session) = tls.get_ref();
            let version = session.protocol_version().map_or("TLS".into(), |v| {
                format!("{v:?}")
                    .replace("TLSv1_", "TLS 1.")
                    .replace("TLSv", "TLS ")
            });
            Step::ok(
                StepName::Tls,
                started,
                format!("{version}, certificate valid for {}", target.host),
            )
        }
        Ok(Err(error)) => {
            let (detail, hint) = explain(&target.host, &error, verifier.name_problem());
            Step::failed(StepName::Tls, started, detail, hint)
        }
        Err(_) => Step::failed(
            StepName::Tls,
            started,
            format!("no TLS handshake within {TLS_TIMEOUT:?}"),
            "the port may not speak TLS: check whether the URL should be http://",
        ),
    }
}

/// A failed handshake in a person's words: what is wrong, and what to check.
fn explain(host: &str, error: &std::io::Error, name: Option<Vec<String>>) -> (String, String) {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>());
    let issuer = matches!(
        tls,
        Some(TlsError::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))
    );
    if let Some(presented) = name {
        let names = match presented.is_empty() {
            true => "no names".to_string(),
            false => presented.join(", "),
        };
        let also = match issuer {
            true => "; its issuer is not trusted here either",
            false => "",
        };
        return (
            format!("certificate name mismatch: the certificate is for {names}, not {host}{also}"),
            format!(
                "check the URL's host (use a name the certificate lists) or reissue the \
                 certificate with {host} among its subject alternative names"
            ),
        );
    }
    match tls {
        Some(TlsError::InvalidCertificate(problem)) => match problem {
            CertificateError::UnknownIssuer => (
                "certificate issuer not trusted (self-signed or a private CA)".into(),
                "add the issuing CA to this machine's trust store (or point SSL_CERT_FILE at \
                 it), or have the server use a certificate from a public CA"
                    .into(),
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                format!("certificate expired: {problem}"),
                "renew the server's certificate".into(),
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                format!("certificate not valid yet: {problem}"),
                "check this machine's clock and the certificate's validity dates".into(),
            ),
            other => (
                format!("certificate refused: {other}"),
                "check the server's certificate chain".into(),
            ),
        },
        Some(TlsError::InvalidMessage(_)) | Some(TlsError::InappropriateMessage { .. }) => (
            format!("not a TLS answer: {error}"),
            "the port does not speak TLS: should the URL be http://?".into(),
        ),
        _ => (
            format!("TLS handshake failed: {error}"),
            "check the server's TLS setup (certificate, protocol versions, the port)".into(),
        ),
    }
}

/// The platform verifier, which also remembers whether a refused certificate's names miss
/// the host: the verifier stops at the first problem, usually the issuer.
#[derive(Debug)]
struct NameChecking {
    inner: Arc<dyn ServerCertVerifier>,
    /// The names of a certificate that is not for the host.
    mismatch: Mutex<Option<Vec<String>>>,
}

impl NameChecking {
    fn platform() -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner = rustls_platform_verifier::Verifier::new(provider)?;
        Ok(Self {
            inner: Arc::new(inner),
            mismatch: Mutex::new(None),
        })
    }

    fn name_problem(&self) -> Option<Vec<String>> {
        self.mismatch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ServerCertVerifier for NameChecking {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if verdict.is_err()
            && let Ok(parsed) = rustls::server::ParsedCertificate::try_from(end_entity)
            && let Err(error) = rustls::client::verify_server_name(&parsed, server_name)
        {
            let presented = match error {
                TlsError::InvalidCertificate(CertificateError::NotValidForNameContext {
                    presented,
                    ..
                }) => presented.iter().map(|name| plain(name)).collect(),
                _ => Vec::new(),
            };
            *self.mismatch.lock().unwrap_or_else(PoisonError::into_inner) = Some(presented);
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A name as the verifier presents it (`DnsName("a.example")`, `IpAddress(192.0.2.1)`), as
/// written in the certificate.
fn plain(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'));
    inner.unwrap_or(presented).trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn presented_names_read_as_written() {
        assert_eq!(super::plain("DnsName(\"other.example\")"), "other.example");
        assert_eq!(super::plain("IpAddress(192.0.2.1)"), "192.0.2.1");
        assert_eq!(super::plain("10.0.0.1"), "10.0.0.1");
    }
}
