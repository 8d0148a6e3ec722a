//! The HTTP side: SSO mobile login → service ticket → DI OAuth2 tokens, refresh, and
//! authenticated connectapi calls. 5xx and network errors are retried with bounded exponential
//! back-off; 401 and 429 are not (429 means "wait hours", see garmin-connect.md).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Response, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{GarminError, Tokens};

const SSO_CLIENT_ID: &str = "GCM_ANDROID_DARK";
const SERVICE_URL: &str = "https://mobile.integration.garmin.com/gcm/android";
const TICKET_GRANT: &str = "https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket";
/// Tried in turn: Garmin retires old ones without notice.
const DI_CLIENT_IDS: [&str; 4] = [
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI",
    "GARMIN_CONNECT_MOBILE_IOS_DI",
];
const USER_AGENT: &str = "com.garmin.android.apps.connectmobile";
/// Refresh when the access token has less than this left.
const REFRESH_MARGIN_S: i64 = 900;

/// Base URLs (no trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarminEndpoints {
    pub sso: String,
    pub diauth: String,
    pub connectapi: String,
}

impl Default for GarminEndpoints {
    fn default() -> Self {
        GarminEndpoints {
            sso: "https://sso.garmin.com".into(),
            diauth: "https://diauth.garmin.com".into(),
            connectapi: "https://connectapi.garmin.com".into(),
        }
    }
}

impl GarminEndpoints {
    /// Every service on one base URL (a test server).
    #[must_use]
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        GarminEndpoints { sso: base.clone(), diauth: base.clone(), connectapi: base }
    }
}

/// Retries for 5xx and network errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(8) }
    }
}

/// What a login attempt needs next.
#[derive(Debug)]
pub enum LoginStep {
    /// Garmin sent a code (by e-mail or SMS): ask the runner, then call [`GarminClient::verify_mfa`].
    NeedMfa(MfaChallenge),
    Done(Tokens),
}

/// The pending MFA step: the method Garmin used and the SSO session cookies the verification must
/// carry. `Debug` hides the cookies.
#[derive(Clone)]
pub struct MfaChallenge {
    pub method: String,
    cookies: String,
}

impl MfaChallenge {
    /// The challenge as JSON, to be sealed (it carries session cookies) before it is stored.
    pub(crate) fn to_doc(&self) -> Value {
        serde_json::json!({ "method": self.method, "cookies": self.cookies })
    }

    pub(crate) fn from_doc(doc: &Value) -> Option<MfaChallenge> {
        Some(MfaChallenge {
            method: doc.get("method")?.as_str()?.to_owned(),
            cookies: doc.get("cookies")?.as_str()?.to_owned(),
        })
    }
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge").field("method", &self.method).field("cookies", &"[REDACTED]").finish()
    }
}

/// The Garmin Connect client (no cookie jar: the one cookie-bound step carries its cookies in
/// [`MfaChallenge`]).
#[derive(Clone, Debug)]
pub struct GarminClient {
    http: reqwest::Client,
    endpoints: GarminEndpoints,
    retry: RetryPolicy,
    /// Shared by every clone: the chat's `/sync` and the background sync of one instance.
    pace: Option<Pacer>,
}

/// Spaces requests at least `gap` apart across every clone of a client: each request reserves
/// the next free slot, then waits for it. (One fixed rate: a reserved slot is all `governor`'s
/// GCRA would give us here, without its dependencies.)
#[derive(Clone, Debug)]
struct Pacer {
    gap: Duration,
    next: Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>,
}

impl Pacer {
    async fn wait_turn(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.gap);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

fn sso_query() -> [(&'static str, &'static str); 3] {
    [("clientId", SSO_CLIENT_ID), ("locale", "en-US"), ("service", SERVICE_URL)]
}

fn retry_after(resp: &Response) -> Option<u64> {
    resp.headers().get(header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

/// The `exp` claim of a JWT, without checking its signature (we only schedule refreshes with it).
fn jwt_exp(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    Utc.timestamp_opt(claims.get("exp")?.as_i64()?, 0).single()
}

fn tokens_from(body: &Value, client_id: &str, previous_refresh: Option<&str>) -> Result<Tokens, GarminError> {
    let now = Utc::now();
    let access = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| GarminError::Unexpected("token response without access_token".into()))?;
    let refresh = body
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or(previous_refresh)
        .ok_or_else(|| GarminError::Unexpected("token response without refresh_token".into()))?;
    let after = |key: &str| body.get(key).and_then(Value::as_i64).map(|s| now + chrono::Duration::seconds(s));
    let expires_at = jwt_exp(access).or_else(|| after("expires_in")).unwrap_or(now);
    Ok(Tokens {
        access_token: access.to_owned(),
        refresh_token: refresh.to_owned(),
        client_id: client_id.to_owned(),
        expires_at,
        refresh_expires_at: after("refresh_token_expires_in"),
    })
}

async fn json_body(resp: Response) -> Result<Value, GarminError> {
    resp.json::<Value>().await.map_err(|e| GarminError::Unexpected(format!("unreadable JSON: {e}")))
}

impl GarminClient {
    pub fn new(endpoints: GarminEndpoints) -> Result<GarminClient, GarminError> {
        GarminClient::with_retry(endpoints, RetryPolicy::default())
    }

    pub fn with_retry(endpoints: GarminEndpoints, retry: RetryPolicy) -> Result<GarminClient, GarminError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GarminError::Unexpected(e.to_string()))?;
        Ok(GarminClient { http, endpoints, retry, pace: None })
    }

    /// At most `per_second` requests a second from this client and its clones (every attempt
    /// counts). Not positive, or not a number: unpaced.
    #[must_use]
    pub fn with_pace(mut self, per_second: f64) -> Self {
        self.pace = (per_second.is_finite() && per_second > 0.0).then(|| Pacer {
            gap: Duration::from_secs_f64(1.0 / per_second),
            next: Arc::new(tokio::sync::Mutex::new(None)),
        });
        self
    }

    /// Sends the request `build` makes, retrying 5xx and network failures; 429 becomes
    /// [`GarminError::RateLimited`] at once.
    async fn send(&self, build: impl Fn() -> reqwest::RequestBuilder) -> Result<Response, GarminError> {
        use backon::Retryable;
        let once = || async {
            if let Some(pace) = &self.pace {
                pace.wait_turn().await;
            }
            match build().send().await {
                Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                    Err(GarminError::RateLimited { retry_after_s: retry_after(&resp) })
                }
                Ok(resp) if resp.status().is_server_error() => {
                    Err(GarminError::Unavailable(format!("HTTP {}", resp.status().as_u16())))
                }
                Ok(resp) => Ok(resp),
                Err(e) if e.is_builder() => Err(GarminError::Unexpected(e.without_url().to_string())),
                Err(e) => Err(GarminError::Unavailable(e.without_url().to_string())),
            }
        };
        let waits = backon::ExponentialBuilder::default()
            .with_min_delay(self.retry.base_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(usize::try_from(self.retry.attempts.max(1) - 1).unwrap_or(0));
        once.retry(waits)
            .sleep(tokio::time::sleep)
            // 5xx and network failures only: a 429 means "wait hours" (see garmin-connect.md).
            .when(|e| matches!(e, GarminError::Unavailable(_)))
            .notify(
                |e, wait| tracing::debug!(error = %e, wait_ms = wait.as_millis(), "Garmin request failed, retrying"),
            )
            .await
    }

    /// Step one: e-mail and password. The password is sent once and not kept.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &SecretString) -> Result<LoginStep, GarminError> {
        let url = format!("{}/mobile/api/login", self.endpoints.sso);
        let resp = self
            .send(|| {
                self.http.post(&url).query(&sso_query()).json(&json!({
                    "username": email,
                    "password": password.expose_secret(),
                    "rememberMe": true,
                    "captchaToken": "",
                }))
            })
            .await?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(GarminError::BadCredentials);
        }
        if !status.is_success() {
            return Err(GarminError::Unexpected(format!("login HTTP {}", status.as_u16())));
        }
        let cookies = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::trim).map(str::to_owned))
            .collect::<Vec<_>>()
            .join("; ");
        let body = json_body(resp).await?;
        match response_type(&body) {
            "SUCCESSFUL" => Ok(LoginStep::Done(self.exchange_ticket(ticket(&body)?).await?)),
            "MFA_REQUIRED" => {
                let method = body
                    .pointer("/customerMfaInfo/mfaLastMethodUsed")
                    .and_then(Value::as_str)
                    .unwrap_or("email")
                    .to_owned();
                tracing::info!(%method, "Garmin login needs an MFA code");
                Ok(LoginStep::NeedMfa(MfaChallenge { method, cookies }))
            }
            other => Err(refusal(other)),
        }
    }

    /// Step two when Garmin asked for a code.
    #[tracing::instrument(skip_all)]
    pub async fn verify_mfa(&self, challenge: &MfaChallenge, code: &str) -> Result<Tokens, GarminError> {
        let url = format!("{}/mobile/api/mfa/verifyCode", self.endpoints.sso);
        let resp = self
            .send(|| {
                let mut req = self.http.post(&url).query(&sso_query()).json(&json!({
                    "mfaMethod": challenge.method,
                    "mfaVerificationCode": code.trim(),
                    "rememberMyBrowser": false,
                    "reconsentList": [],
                    "mfaSetup": false,
                }));
                if !challenge.cookies.is_empty() {
                    req = req.header(header::COOKIE, &challenge.cookies);
                }
                req
            })
            .await?;
        if resp.status().is_client_error() {
            return Err(GarminError::MfaInvalid);
        }
        let body = json_body(resp).await?;
        match response_type(&body) {
            "SUCCESSFUL" => self.exchange_ticket(ticket(&body)?).await,
            _ => Err(GarminError::MfaInvalid),
        }
    }

    /// Service ticket → DI OAuth2 tokens, trying each known client id.
    #[tracing::instrument(skip_all)]
    async fn exchange_ticket(&self, ticket: &str) -> Result<Tokens, GarminError> {
        let url = format!("{}/di-oauth2-service/oauth/token", self.endpoints.diauth);
        for client_id in DI_CLIENT_IDS {
            let form = [
                ("client_id", client_id),
                ("service_ticket", ticket),
                ("grant_type", TICKET_GRANT),
                ("service_url", SERVICE_URL),
            ];
            let resp = self.send(|| self.http.post(&url).basic_auth(client_id, Some("")).form(&form)).await?;
            if resp.status().is_success() {
                return tokens_from(&json_body(resp).await?, client_id, None);
            }
            tracing::debug!(client_id, status = resp.status().as_u16(), "DI client id refused");
        }
        Err(GarminError::Unexpected("no DI client id accepted the service ticket".into()))
    }

    /// New tokens from the refresh token (with the client id they were issued to).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, tokens: &Tokens) -> Result<Tokens, GarminError> {
        let url = format!("{}/di-oauth2-service/oauth/token", self.endpoints.diauth);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", tokens.client_id.as_str()),
            ("refresh_token", tokens.refresh_token.as_str()),
        ];
        let resp = self.send(|| self.http.post(&url).basic_auth(&tokens.client_id, Some("")).form(&form)).await?;
        let status = resp.status();
        if status.is_client_error() {
            return Err(GarminError::SessionExpired);
        }
        if !status.is_success() {
            return Err(GarminError::Unexpected(format!("refresh HTTP {}", status.as_u16())));
        }
        tokens_from(&json_body(resp).await?, &tokens.client_id, Some(&tokens.refresh_token))
    }
}

fn response_type(body: &Value) -> &str {
    body.pointer("/responseStatus/type").and_then(Value::as_str).unwrap_or_default()
}

fn ticket(body: &Value) -> Result<&str, GarminError> {
    body.get("serviceTicketId")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GarminError::Unexpected("SUCCESSFUL login without serviceTicketId".into()))
}

fn refusal(kind: &str) -> GarminError {
    if kind.contains("INVALID") || kind.contains("LOCKED") || kind.contains("FAIL") {
        GarminError::BadCredentials
    } else {
        GarminError::Unexpected(format!("login status {kind:?}"))
    }
}

/// Authenticated calls with a runner's tokens: refreshed ahead of expiry and once on a 401.
/// After use, [`GarminSession::was_refreshed`] says whether the tokens must be stored again.
#[derive(Debug)]
pub struct GarminSession<'c> {
    client: &'c GarminClient,
    tokens: Tokens,
    refreshed: bool,
}

impl<'c> GarminSession<'c> {
    #[must_use]
    pub fn new(client: &'c GarminClient, tokens: Tokens) -> Self {
        GarminSession { client, tokens, refreshed: false }
    }

    #[must_use]
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    #[must_use]
    pub fn was_refreshed(&self) -> bool {
        self.refreshed
    }

    async fn refresh(&mut self) -> Result<(), GarminError> {
        self.tokens = self.client.refresh(&self.tokens).await?;
        self.refreshed = true;
        Ok(())
    }

    /// GET `path` (with its query) on connectapi, as JSON.
    #[tracing::instrument(skip_all)]
    pub async fn get_json(&mut self, path: &str, query: &[(&str, String)]) -> Result<Value, GarminError> {
        if self.tokens.expires_within(Utc::now(), REFRESH_MARGIN_S) {
            self.refresh().await?;
        }
        let url = format!("{}{}", self.client.endpoints.connectapi, path);
        let mut retried_auth = false;
        loop {
            let token = self.tokens.access_token().to_owned();
            let resp = self.client.send(|| self.client.http.get(&url).query(query).bearer_auth(&token)).await?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !retried_auth => {
                    retried_auth = true;
                    self.refresh().await?;
                }
                StatusCode::UNAUTHORIZED => return Err(GarminError::SessionExpired),
                s if s.is_success() => return json_body(resp).await,
                s => return Err(GarminError::Unexpected(format!("{path}: HTTP {}", s.as_u16()))),
            }
        }
    }

    /// Sends `body` (or nothing) with `method` to `path` on connectapi; the JSON answer, or `None`
    /// for an empty one (204). A 4xx other than 401/429 is [`GarminError::Refused`] with Garmin's
    /// reason (its `message` field) when it gave one.
    #[tracing::instrument(skip_all)]
    pub async fn send_json(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, GarminError> {
        if self.tokens.expires_within(Utc::now(), REFRESH_MARGIN_S) {
            self.refresh().await?;
        }
        let url = format!("{}{}", self.client.endpoints.connectapi, path);
        let mut retried_auth = false;
        loop {
            let token = self.tokens.access_token().to_owned();
            let resp = self
                .client
                .send(|| {
                    let req = self.client.http.request(method.clone(), &url).bearer_auth(&token);
                    match body {
                        Some(b) => req.json(b),
                        None => req,
                    }
                })
                .await?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !retried_auth => {
                    retried_auth = true;
                    self.refresh().await?;
                }
                StatusCode::UNAUTHORIZED => return Err(GarminError::SessionExpired),
                StatusCode::NO_CONTENT => return Ok(None),
                s if s.is_success() => {
                    let bytes =
                        resp.bytes().await.map_err(|e| GarminError::Unavailable(e.without_url().to_string()))?;
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        return Ok(None);
                    }
                    return serde_json::from_slice(&bytes)
                        .map(Some)
                        .map_err(|e| GarminError::Unexpected(format!("{path}: unreadable JSON: {e}")));
                }
                s if s.is_client_error() => {
                    let status = s.as_u16();
                    let body: Option<Value> = resp.json().await.ok();
                    let reason = body
                        .as_ref()
                        .and_then(|b| b.get("message").or_else(|| b.get("content")))
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("HTTP {status}"), |m| m.chars().take(200).collect());
                    return Err(GarminError::Refused { status, reason });
                }
                s => return Err(GarminError::Unexpected(format!("{path}: HTTP {}", s.as_u16()))),
            }
        }
    }

    /// The runner's public profile: used right after login to check the tokens work.
    pub async fn social_profile(&mut self) -> Result<Value, GarminError> {
        self.get_json("/userprofile-service/socialProfile", &[]).await
    }

    /// One page of the activity list, newest first.
    pub async fn activities(&mut self, start: usize, limit: usize) -> Result<Vec<Value>, GarminError> {
        let query = [("start", start.to_string()), ("limit", limit.to_string())];
        match self.get_json("/activitylist-service/activities/search/activities", &query).await? {
            Value::Array(items) => Ok(items),
            _ => Err(GarminError::Unexpected("activity list is not a list".into())),
        }
    }

    /// The laps of one activity (`lapDTOs`). `activity_id` must be Garmin's numeric id: it goes
    /// into the path.
    pub async fn activity_splits(&mut self, activity_id: &str) -> Result<Value, GarminError> {
        if activity_id.is_empty() || !activity_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GarminError::Unexpected(format!("activity id {activity_id:?} is not numeric")));
        }
        self.get_json(&format!("/activity-service/activity/{activity_id}/splits"), &[]).await
    }

    /// How many activities the account holds, when Garmin says.
    pub async fn activity_count(&mut self) -> Result<Option<u64>, GarminError> {
        let body = self.get_json("/activitylist-service/activities/count", &[]).await?;
        Ok(body.get("totalCount").and_then(Value::as_u64))
    }
}
