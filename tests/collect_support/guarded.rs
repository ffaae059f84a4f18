//! A simulated TikTok that treats clients the way the real one does in 2026: plain HTTP gets
//! empty page shells; a client that runs the page's JavaScript passes a challenge (a cookie
//! the script computes, then a reload) and gets profiles; tag data comes only from the tag
//! page's own API call, signed by its script. Every request is logged so tests can check
//! what reached the server and when.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The cookie the challenge script sets.
pub const COOKIE: &str = "tt_chain_token";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub at: Instant,
    /// A browser navigation (`Sec-Fetch-Mode: navigate`), not a script's fetch.
    pub navigation: bool,
    /// A navigation the browser itself was told to make (`Sec-Fetch-Site: none`, as from
    /// the address bar or DevTools), not one a page's script made (the challenge's reload).
    pub typed: bool,
    pub from_browser: bool,
    pub with_cookie: bool,
    pub user_agent: String,
}

#[derive(Default)]
struct State {
    nonce: String,
    tags: HashMap<String, u64>,
    creators: HashMap<String, u64>,
    /// Paths that take this long to answer.
    slow: HashMap<String, Duration>,
    /// TikTok on a good day: every client gets the data in the page, no challenge.
    open: bool,
    /// Paths answered with this page to every client, whatever it holds.
    raw: HashMap<String, String>,
    seen: Vec<Seen>,
}

/// The JavaScript challenge's answer, computed the way the page's script computes it.
fn token(text: &str) -> u64 {
    text.chars()
        .fold(7u64, |h, c| (h * 31 + u64::from(c)) % 1_000_000_007)
}

pub struct GuardedTiktok {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

impl GuardedTiktok {
    pub async fn start(tags: &[(&str, u64)], creators: &[(&str, u64)]) -> Self {
        Self::start_with(tags, creators, false).await
    }

    /// The same pages, but served whole to every client (to compare fetchers on equal pages).
    pub async fn start_open(tags: &[(&str, u64)], creators: &[(&str, u64)]) -> Self {
        Self::start_with(tags, creators, true).await
    }

    async fn start_with(tags: &[(&str, u64)], creators: &[(&str, u64)], open: bool) -> Self {
        let state = Arc::new(Mutex::new(State {
            nonce: format!("n{:08x}", rand_u32()),
            tags: tags.iter().map(|(t, v)| (t.to_string(), *v)).collect(),
            creators: creators.iter().map(|(h, f)| (h.to_string(), *f)).collect(),
            open,
            ..State::default()
        }));
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(Arc::clone(&state)))
            .mount(&server)
            .await;
        GuardedTiktok { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Makes `path` answer only after `delay`.
    pub fn slow(&self, path: &str, delay: Duration) {
        self.state.lock().unwrap().slow.insert(path.into(), delay);
    }

    /// Makes `path` answer `page` (HTML) to every client: a hostile page.
    pub fn serve_raw(&self, path: &str, page: &str) {
        self.state
            .lock()
            .unwrap()
            .raw
            .insert(path.into(), page.into());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The profile and tag pages asked for over plain HTTP, in order.
    pub fn plain_page_requests(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|s| {
                !s.from_browser && (s.path.starts_with("/tag/") || s.path.starts_with("/@"))
            })
            .map(|s| s.path)
            .collect()
    }
}

fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos() ^ std::process::id()
}

struct Responder(Arc<Mutex<State>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let mut state = self.0.lock().unwrap();
        let expected = token(&state.nonce).to_string();
        let cookie_ok = header("cookie")
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && v == expected)
            || state.open;
        let path = request.url.path().to_owned();
        state.seen.push(Seen {
            path: path.clone(),
            at: Instant::now(),
            navigation: header("sec-fetch-mode") == "navigate",
            typed: header("sec-fetch-mode") == "navigate" && header("sec-fetch-site") == "none",
            from_browser: !header("sec-fetch-mode").is_empty(),
            with_cookie: cookie_ok,
            user_agent: header("user-agent"),
        });
        let delay = state.slow.get(&path).copied();
        let response = match state.raw.get(&path) {
            Some(page) => html(page),
            None => answer(&state, request, &path, cookie_ok, &expected),
        };
        match delay {
            Some(d) => response.set_delay(d),
            None => response,
        }
    }
}

fn answer(
    state: &State,
    request: &Request,
    path: &str,
    cookie_ok: bool,
    expected: &str,
) -> ResponseTemplate {
    let challenge = format!(
        r#"<script>(function(){{var n="{nonce}",h=7;for(var i=0;i<n.length;i++){{h=(h*31+n.charCodeAt(i))%1000000007;}}document.cookie="{COOKIE}="+h+"; path=/";location.reload();}})();</script>"#,
        nonce = state.nonce
    );
    if let Some(handle) = path.strip_prefix("/@") {
        let Some(followers) = state.creators.get(handle) else {
            return html(&shell(&not_found_scope()));
        };
        if !cookie_ok {
            return html(&format!("{}{challenge}", shell("")));
        }
        return html(&profile(handle, *followers));
    }
    if let Some(tag) = path.strip_prefix("/tag/") {
        if let Some(views) = state.tags.get(tag).filter(|_| state.open) {
            return html(&shell(&format!(
                r#""webapp.challenge-detail":{}"#,
                challenge_detail(tag, *views)
            )));
        }
        if !cookie_ok {
            return html(&format!("{}{challenge}", shell("")));
        }
        // The signed call the page's script makes; the data never enters the document.
        let signer = format!(
            r#"<script>(function(){{var name={name:?};var c=(document.cookie.match(/{COOKIE}=([0-9]+)/)||[])[1]||"";var t=name+c,h=7;for(var i=0;i<t.length;i++){{h=(h*31+t.charCodeAt(i))%1000000007;}}fetch("/api/challenge/detail/?challengeName="+encodeURIComponent(name)+"&X-Bogus="+h).then(function(r){{return r.text();}});}})();</script>"#,
            name = tag
        );
        return html(&format!("{}{signer}", shell("")));
    }
    if path.starts_with("/embed/tag/") {
        return html(
            r#"<html><body><script id="__FRONTITY_CONNECT_STATE__" type="application/json">{"source":{"data":{}}}</script></body></html>"#,
        );
    }
    if path == "/api/challenge/detail/" {
        let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let name = query.get("challengeName").cloned().unwrap_or_default();
        let signed = query.get("X-Bogus").map(String::as_str)
            == Some(token(&format!("{name}{expected}")).to_string().as_str());
        let Some(views) = state.tags.get(&name).filter(|_| signed && cookie_ok) else {
            // TikTok answers an unsigned call with an empty 200.
            return json("");
        };
        return json(&challenge_detail(&name, *views));
    }
    if path == "/static/app.js" {
        return ResponseTemplate::new(200)
            .set_body_raw("window.appLoaded = true;", "text/javascript");
    }
    if path == "/api/creator/item_list/" {
        return json(r#"{"itemList":[],"hasMorePrevious":false,"statusCode":0}"#);
    }
    ResponseTemplate::new(404)
}

fn html(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "text/html; charset=utf-8")
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json")
}

/// A page whose data script holds only the app's context (and `scope`, when given).
fn shell(scope: &str) -> String {
    let sep = if scope.is_empty() { "" } else { "," };
    format!(
        r#"<!DOCTYPE html><html><head><title>TikTok</title></head><body><div id="app" data-csr="1"></div><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{{"__DEFAULT_SCOPE__":{{"webapp.app-context":{{"language":"en"}}{sep}{scope}}}}}</script></body></html>"#
    )
}

/// What `/api/challenge/detail/` answers, and the rehydration script holds when it has data.
fn challenge_detail(name: &str, views: u64) -> String {
    format!(
        r#"{{"statusCode":0,"challengeInfo":{{"challenge":{{"id":"1{len}","title":{name:?}}},"stats":{{"videoCount":0,"viewCount":{views}}},"statsV2":{{"videoCount":"0","viewCount":"{views}"}}}}}}"#,
        len = name.len()
    )
}

fn not_found_scope() -> String {
    r#""webapp.user-detail":{"statusCode":10221,"statusMsg":"user not exist"}"#.to_owned()
}

fn profile(handle: &str, followers: u64) -> String {
    // Like TikTok's bundles: a script that loads on its own time, holding the load event.
    let page = shell(&format!(
        r#""webapp.user-detail":{{"statusCode":0,"userInfo":{{"user":{{"id":"7{len}","uniqueId":{handle:?},"nickname":{handle:?},"secUid":"MS4wLjABAAAA{handle}","privateAccount":false}},"stats":{{"followerCount":{followers},"followingCount":12,"heartCount":5000,"videoCount":40}},"statsV2":{{"followerCount":"{followers}","followingCount":"12","heartCount":"5000","videoCount":"40"}},"itemList":[]}}}}"#,
        len = handle.len()
    ));
    page.replace(
        "</body>",
        r#"<script async src="/static/app.js"></script></body>"#,
    )
}
