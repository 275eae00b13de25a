//! Where a webhook may be sent: the guard against server-side request
//! forgery. An endpoint URL must be `https` to a public address; loopback,
//! private, link-local, shared, IPv4-mapped and other reserved addresses are
//! refused, however they are written (`0x7f.1`, `2130706433` and
//! `[::ffff:127.0.0.1]` are all 127.0.0.1 once parsed). Names are checked
//! when the endpoint is saved and again, resolved, before every attempt,
//! whose connection is pinned to the addresses checked (no DNS rebinding).
//! Redirects are never followed. Hosts the operator lists in
//! `webhook_allowed_hosts` skip the address check and may use plain http.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::plugins::egress::{is_public, matches};

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2_000;

/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the operator lets endpoints on `host` skip the address check.
fn allowed(host: &str, allowed_hosts: &[String]) -> bool {
    allowed_hosts.iter().any(|pattern| matches(pattern, host))
}

fn host_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Checks an endpoint URL without touching the network: shape, scheme,
/// credentials, and literal addresses. Answers the parsed URL or why not.
pub fn check_url(raw: &str, allowed_hosts: &[String]) -> Result<Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https:// URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; put a token in the path or query".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    let host = host_of(&url);
    if host.is_empty() {
        return Err("must name a host".into());
    }
    if allowed(&host, allowed_hosts) {
        return Ok(url);
    }
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        _ => None,
    };
    if ip.is_some_and(|ip| !is_public(ip)) || host == "localhost" || host.ends_with(".localhost") {
        return Err(format!(
            "points at {host}, a loopback, private or reserved address; webhooks go to public addresses only"
        ));
    }
    if url.scheme() != "https" {
        return Err("must be an https:// URL".into());
    }
    Ok(url)
}

/// Why a URL's host gave no address to send to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    /// The name does not resolve (now).
    #[error("{0}")]
    Unresolved(String),
    /// It resolves to an address webhooks may not go to.
    #[error("{0}")]
    Refused(String),
}

/// Resolves the URL's host and checks every address it has; answers the
/// addresses to connect to (and only to).
pub async fn resolve(url: &Url, allowed_hosts: &[String]) -> Result<Vec<SocketAddr>, Unreachable> {
    let host = host_of(url);
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(err)) => {
                    return Err(Unreachable::Unresolved(format!(
                        "cannot resolve {host}: {err}"
                    )));
                }
                Err(_) => {
                    return Err(Unreachable::Unresolved(format!(
                        "resolving {host} took too long"
                    )));
                }
            }
        }
    };
    if addrs.is_empty() {
        return Err(Unreachable::Unresolved(format!("{host} has no address")));
    }
    if !allowed(&host, allowed_hosts) && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(Unreachable::Refused(format!(
            "{host} resolves to a loopback, private or reserved address; webhooks go to public addresses only"
        )));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_internal_address_is_refused() {
        for url in [
            "https://127.0.0.1/hook",
            "https://0x7f.1/hook",
            "https://2130706433/hook",
            "https://0177.0.0.1/hook",
            "https://[::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[::ffff:7f00:1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.8/hook",
            "https://192.168.1.1/hook",
            "https://100.64.0.1/hook",
            "https://[fd00::1]/hook",
            "https://[fe80::1]/hook",
            "https://0.0.0.0/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
            "https://localhost./hook",
        ] {
            let refused = check_url(url, &[]);
            assert!(refused.is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn public_https_urls_pass_and_plain_http_does_not() {
        assert!(check_url("https://hooks.example.com/plaza?token=abc", &[]).is_ok());
        assert!(check_url("https://93.184.215.14/hook", &[]).is_ok());
        assert!(check_url("http://hooks.example.com/plaza", &[]).is_err());
        assert!(check_url("ftp://hooks.example.com/plaza", &[]).is_err());
        assert!(check_url("https://user:pw@hooks.example.com/", &[]).is_err());
        assert!(check_url("https://hooks.example.com/#frag", &[]).is_err());
        assert!(check_url("not a url", &[]).is_err());
    }

    #[test]
    fn allowed_hosts_may_be_internal_and_plain_http() {
        let allowed = vec!["127.0.0.1".to_owned(), "*.corp.example".to_owned()];
        assert!(check_url("http://127.0.0.1:9000/hook", &allowed).is_ok());
        assert!(check_url("http://n8n.corp.example/hook", &allowed).is_ok());
        assert!(check_url("http://127.0.0.2/hook", &allowed).is_err());
    }

    #[actix_web::test]
    async fn names_are_checked_after_resolving() {
        // A name is only known after resolving it: `localhost` stands in
        // for any public-looking name that resolves to loopback.
        let url = Url::parse("https://localhost:9/hook").expect("url");
        let refused = resolve(&url, &[]).await;
        assert!(
            matches!(refused, Err(Unreachable::Refused(_))),
            "{refused:?}"
        );
        let allowed = vec!["localhost".to_owned()];
        assert!(resolve(&url, &allowed).await.is_ok());
    }
}
