//! Outbound HTTP for plugins, denied by default.
//!
//! A request leaves only when its host is declared in the plugin's manifest
//! AND allowed by the operator, over https, to public addresses: the host
//! resolves the name itself, refuses loopback, private, link-local, shared,
//! mapped and other special ranges, and pins the connection to the addresses
//! it checked (no DNS rebinding). Redirects are followed by the host and every
//! hop is checked again. Responses and requests per call are capped.
//!
//! Operators (and the tests) may name hosts that are reachable over plain
//! http and on loopback: `plugin_insecure_hosts`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::runtime::Handle;

use super::bindings::{HttpError, HttpRequest, HttpResponse};

/// The operator's side of the egress rules.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// Host patterns the operator allows (`*`, `example.com`, `*.example.com`).
    pub allowed_hosts: Vec<String>,
    /// Hosts reachable over http and on private addresses (tests, labs).
    pub insecure_hosts: Vec<String>,
    /// Most requests one call may send (redirect hops count).
    pub max_requests_per_call: u32,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Most redirects followed for one request.
    pub max_redirects: u8,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["*".to_owned()],
            insecure_hosts: Vec::new(),
            max_requests_per_call: 16,
            max_response_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            max_redirects: 5,
        }
    }
}

/// Outbound HTTP for one plugin call.
#[derive(Debug)]
pub struct Egress {
    policy: Arc<EgressPolicy>,
    declared: Vec<String>,
    sent: u32,
    runtime: Handle,
}

fn denied(reason: impl Into<String>) -> HttpError {
    HttpError::Denied(reason.into())
}

/// Whether `host` matches a pattern: exact, `*.suffix`, or `*` for any.
pub fn matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// Expands `{config.key}` templates of a manifest's allowed hosts with the
/// channel's configuration; a value that is a URL contributes its host.
pub fn expand_hosts(templates: &[String], config: &serde_json::Value) -> Vec<String> {
    templates
        .iter()
        .filter_map(|template| {
            let mut host = template.clone();
            while let Some(start) = host.find("{config.") {
                let end = host[start..].find('}')? + start;
                let key = &host[start + 8..end];
                let value = config.get(key)?.as_str()?.to_owned();
                host.replace_range(start..=end, &value);
            }
            let host = match Url::parse(&host) {
                Ok(url) if url.has_host() => url.host_str()?.to_owned(),
                _ => host.split(':').next().unwrap_or_default().to_owned(),
            };
            (!host.is_empty()).then_some(host.to_ascii_lowercase())
        })
        .collect()
}

/// Whether an address is one a plugin may reach on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (segments[0] == 0x64 && segments[1] == 0xff9b) // NAT64
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || (segments[0] == 0x2002) // 6to4 embeds any IPv4
                || (segments[..6] == [0, 0, 0, 0, 0, 0])) // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

impl Egress {
    /// Egress for a call of a plugin whose manifest declared `declared` hosts
    /// (already expanded for the channel).
    pub fn new(policy: Arc<EgressPolicy>, declared: Vec<String>, runtime: Handle) -> Self {
        Self {
            policy,
            declared,
            sent: 0,
            runtime,
        }
    }

    /// Sends a plugin's request under the rules above.
    pub fn send(&mut self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut url = Url::parse(&request.url).map_err(|e| HttpError::InvalidUrl(e.to_string()))?;
        let mut method =
            reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
                .map_err(|_| HttpError::InvalidUrl(format!("bad method {}", request.method)))?;
        let mut body = request.body;
        for _ in 0..=self.policy.max_redirects {
            self.sent += 1;
            if self.sent > self.policy.max_requests_per_call {
                return Err(HttpError::TooManyRequests);
            }
            let (host, addrs) = self.check(&url)?;
            let response = self.runtime.block_on(fetch(
                &self.policy,
                &host,
                &addrs,
                method.clone(),
                url.clone(),
                &request.headers,
                body.clone(),
            ))?;
            let location = response
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("location"))
                .map(|(_, value)| value.clone());
            match (response.status, location) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => {
                    url = url
                        .join(&location)
                        .map_err(|e| HttpError::InvalidUrl(e.to_string()))?;
                    if response.status == 303
                        || (matches!(response.status, 301 | 302) && method == reqwest::Method::POST)
                    {
                        method = reqwest::Method::GET;
                        body = None;
                    }
                }
                _ => return Ok(response),
            }
        }
        Err(denied("too many redirects"))
    }

    /// Checks scheme, host and addresses; answers the addresses to connect to.
    fn check(&self, url: &Url) -> Result<(String, Vec<SocketAddr>), HttpError> {
        if !matches!(url.scheme(), "https" | "http") {
            return Err(denied(format!(
                "{}:// is not allowed; use https",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| HttpError::InvalidUrl("the URL has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let insecure = self.policy.insecure_hosts.iter().any(|p| matches(p, &host));
        match url.scheme() {
            "https" => {}
            "http" if insecure => {}
            scheme => return Err(denied(format!("{scheme}:// is not allowed; use https"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(denied("credentials in URLs are not allowed"));
        }
        if !self.declared.iter().any(|d| matches(d, &host)) {
            return Err(denied(format!(
                "{host} is not declared in the plugin's manifest"
            )));
        }
        if !self.policy.allowed_hosts.iter().any(|p| matches(p, &host)) {
            return Err(denied(format!("{host} is not allowed by the operator")));
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => self
                .runtime
                .block_on(tokio::net::lookup_host((host.as_str(), port)))
                .map_err(|e| HttpError::Connect(format!("cannot resolve {host}: {e}")))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(HttpError::Connect(format!("{host} has no address")));
        }
        if !insecure && addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(denied(format!(
                "{host} resolves to a private or reserved address"
            )));
        }
        Ok((host, addrs))
    }
}

const HOP_BY_HOP: [&str; 8] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

async fn fetch(
    policy: &EgressPolicy,
    host: &str,
    addrs: &[SocketAddr],
    method: reqwest::Method,
    url: Url,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> Result<HttpResponse, HttpError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(policy.request_timeout)
        .no_proxy()
        .resolve_to_addrs(host, addrs)
        .build()
        .map_err(|e| HttpError::Connect(e.to_string()))?;
    let mut request = client.request(method, url);
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let mut response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Connect(e.to_string())
        }
    })?;
    if response
        .content_length()
        .is_some_and(|len| len > policy.max_response_bytes as u64)
    {
        return Err(HttpError::TooLarge);
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Connect(e.to_string())
        }
    })? {
        if body.len() + chunk.len() > policy.max_response_bytes {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn host_patterns() {
        assert!(matches("*", "anything.example"));
        assert!(matches("example.com", "EXAMPLE.com."));
        assert!(matches("*.example.com", "api.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(!matches("*.example.com", "evilexample.com"));
        assert!(!matches("example.com", "example.com.evil.net"));
    }

    #[test]
    fn templates_expand_from_the_channel_config() {
        let config = serde_json::json!({"instance": "https://mastodon.social/", "region": "eu"});
        let hosts = expand_hosts(
            &[
                "{config.instance}".to_owned(),
                "api.{config.region}.example.com".to_owned(),
                "{config.missing}".to_owned(),
                "bsky.social".to_owned(),
            ],
            &config,
        );
        assert_eq!(
            hosts,
            ["mastodon.social", "api.eu.example.com", "bsky.social"]
        );
    }

    fn egress(declared: &[&str], insecure: &[&str]) -> Egress {
        let policy = EgressPolicy {
            insecure_hosts: insecure.iter().map(|s| (*s).to_owned()).collect(),
            ..EgressPolicy::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        std::mem::forget(runtime);
        Egress::new(
            Arc::new(policy),
            declared.iter().map(|s| (*s).to_owned()).collect(),
            handle,
        )
    }

    #[test]
    fn ssrf_attempts_are_denied_before_any_connection() {
        let mut egress = egress(&["*"], &[]);
        for url in [
            "http://example.com/",
            "https://127.0.0.1/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://localhost/",
            "https://user:pw@example.com/",
            "file:///etc/passwd",
        ] {
            let result = egress.send(HttpRequest {
                method: "GET".into(),
                url: url.into(),
                headers: vec![],
                body: None,
            });
            assert!(
                matches!(result, Err(HttpError::Denied(_) | HttpError::Connect(_))),
                "{url}: {result:?}"
            );
        }
    }

    #[test]
    fn undeclared_hosts_are_denied() {
        let egress = egress(&["api.example.com"], &[]);
        let url = Url::parse("https://other.example.com/").unwrap();
        assert!(matches!(egress.check(&url), Err(HttpError::Denied(m)) if m.contains("manifest")));
    }
}
