//! A successful answer and its text in the charset the page declares.

use url::Url;

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Page {
    /// After redirects.
    pub final_url: Url,
    pub status: u16,
    pub body: Vec<u8>,
    /// The `charset` of the `Content-Type` header, when it names one.
    pub charset: Option<String>,
}

impl Page {
    /// The body as text in the encoding the page declares (its `Content-Type` header, else a
    /// `<meta charset>` near the top, else UTF-8): a shop page in ISO-8859-1 keeps its
    /// accents. Bytes invalid in that encoding become U+FFFD instead of failing the page.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        let declared = self
            .charset
            .as_deref()
            .or_else(|| meta_charset(&self.body))
            .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()));
        let encoding = declared.unwrap_or(encoding_rs::UTF_8);
        let (text, _, _) = encoding.decode(&self.body);
        text
    }
}

/// `text/html; charset=ISO-8859-1` → `ISO-8859-1`.
pub(super) fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The `charset` of a `<meta charset=…>` or `<meta http-equiv … content="…; charset=…">` in
/// the first kilobyte, where HTML requires it to be.
fn meta_charset(body: &[u8]) -> Option<&str> {
    let head = &body[..body.len().min(1024)];
    let at = head
        .windows(8)
        .position(|w| w.eq_ignore_ascii_case(b"charset="))?;
    let rest = &head[at + 8..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let rest = rest.strip_prefix(b"'").unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end])
        .ok()
        .filter(|s| !s.is_empty())
}
