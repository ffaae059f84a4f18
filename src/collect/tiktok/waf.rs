//! The SlardarWAF bot wall and its proof of work, solved the way a browser does once.

use super::*;

// ---------------------------------------------------------------------------------------------
// The bot wall

/// A SlardarWAF challenge page: `<p id="wci" class="COOKIE_NAME">`, `<p id="cs" class="B64">`
/// and optionally `<p id="rci" class="NAME">` / `<p id="rs" class="VALUE">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafChallenge {
    pub cookie_name: String,
    pub challenge: String,
    pub extra_cookie: Option<(String, String)>,
}

/// The class attribute of the element with `id="ID"`.
fn class_of_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let bytes = html.as_bytes();
    let needle = format!("id=\"{id}\"");
    let at = memchr::memmem::find(bytes, needle.as_bytes())?;
    let start = memchr::memrchr(b'<', &bytes[..at])?;
    let end = at + memchr::memchr(b'>', &bytes[at..])?;
    let tag = html.get(start..end)?;
    let class_at = tag.find("class=\"")? + "class=\"".len();
    let rest = tag.get(class_at..)?;
    rest.get(..rest.find('"')?)
}

impl WafChallenge {
    /// The challenge of a bot-wall page, if this is one.
    pub fn find(html: &str) -> Option<Self> {
        let cookie_name = class_of_id(html, "wci")?.trim().to_string();
        let challenge = class_of_id(html, "cs")?.trim().to_string();
        if cookie_name.is_empty()
            || challenge.is_empty()
            || !cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        let extra_cookie = match (class_of_id(html, "rci"), class_of_id(html, "rs")) {
            (Some(n), Some(v)) if !n.trim().is_empty() => {
                Some((n.trim().to_string(), v.trim().to_string()))
            }
            _ => None,
        };
        Some(Self {
            cookie_name,
            challenge,
            extra_cookie,
        })
    }

    /// Solves the proof of work the way a browser does: find n in 0..=1,000,000 with
    /// `sha256(base64dec(v.a) ++ decimal(n)) == base64dec(v.c)`, then answer with the challenge
    /// JSON plus `"d": base64(decimal(n))`, base64-encoded. Returns the cookies to send
    /// (name, value), or `None` when the challenge is malformed or has no answer.
    pub fn solve(&self) -> Option<Vec<(String, String)>> {
        let decoded = decode_b64(&self.challenge)?;
        let json = String::from_utf8(decoded).ok()?;
        let parsed: Value = serde_json::from_str(&json).ok()?;
        let v = parsed.get("v")?;
        let prefix = decode_b64(v.get("a")?.as_str()?)?;
        let target = decode_b64(v.get("c")?.as_str()?)?;
        if target.len() != 32 {
            return None;
        }
        let mut base = Sha256::new();
        base.update(&prefix);
        let mut digits = itoa_buf();
        let answer = (0u32..=1_000_000).find(|&n| {
            let mut h = base.clone();
            h.update(fmt_u32(&mut digits, n));
            h.finalize().as_slice() == target.as_slice()
        })?;
        let engine = base64::engine::general_purpose::STANDARD;
        let d = engine.encode(answer.to_string());
        // Keep the challenge JSON byte for byte and append `d`, as a browser's
        // JSON.stringify of the decoded object with one more key would.
        let body = json.trim();
        let body = body.strip_suffix('}')?.trim_end();
        let sep = if body.ends_with('{') { "" } else { "," };
        let answer_json = format!("{body}{sep}\"d\":\"{d}\"}}");
        let mut cookies = vec![(self.cookie_name.clone(), engine.encode(answer_json))];
        cookies.extend(self.extra_cookie.clone());
        Some(cookies)
    }
}

fn itoa_buf() -> [u8; 10] {
    [0u8; 10]
}

/// Decimal digits of `n` in `buf`, without allocating (the loop runs up to a million times).
fn fmt_u32(buf: &mut [u8; 10], mut n: u32) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Base64 with or without padding, standard or URL-safe alphabet.
fn decode_b64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let t = s.trim().trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(t)
        .or_else(|_| URL_SAFE_NO_PAD.decode(t))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_without_allocation() {
        let mut b = itoa_buf();
        assert_eq!(fmt_u32(&mut b, 0), b"0");
        assert_eq!(fmt_u32(&mut b, 1_000_000), b"1000000");
        assert_eq!(fmt_u32(&mut b, u32::MAX), b"4294967295");
    }
}
