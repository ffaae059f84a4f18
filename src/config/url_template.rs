//! A custom source's URL with `{id}` and `{env:NAME}` placeholders, parsed once when the
//! watchlist is loaded and only filled in at each fetch.
//!
//! An expanded URL is never put into an error: the environment supplies API keys there.

use url::Url;

/// `https://api.example.org/c?id={id}&key={env:YT_KEY}`, checked and split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Id,
    Env(String),
}

/// Why a template is refused, or could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlTemplateError {
    #[error("unclosed `{{` in the URL")]
    Unclosed,
    #[error("unknown placeholder `{{{0}}}`: use {{id}} or {{env:NAME}}")]
    UnknownPlaceholder(String),
    #[error("the URL needs an `{{id}}` placeholder: it is replaced by each of `ids` in turn")]
    NoId,
    #[error("`{0}` is not an http(s) URL")]
    NotHttp(String),
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("the expanded URL is invalid: {0}")]
    Invalid(String),
}

impl UrlTemplate {
    /// Splits `text` into literal text and placeholders, and checks that it is an http(s) URL
    /// with a host once filled in.
    pub fn parse(text: &str) -> Result<UrlTemplate, UrlTemplateError> {
        let text = text.trim();
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(UrlTemplateError::Unclosed)?;
            let name = &after[..close];
            let env = name.strip_prefix("env:").filter(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            match (name, env) {
                ("id", _) => parts.push(Part::Id),
                (_, Some(var)) => parts.push(Part::Env(var.to_string())),
                _ => return Err(UrlTemplateError::UnknownPlaceholder(name.to_string())),
            }
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        let template = UrlTemplate {
            text: text.to_string(),
            parts,
        };
        match template.expand("x", |_| Some("x".to_string())) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                Ok(template)
            }
            _ => Err(UrlTemplateError::NotHttp(text.to_string())),
        }
    }

    /// Whether it has an `{id}` (a watchlist source must: each of its ids is one entity).
    pub fn has_id(&self) -> bool {
        self.parts.contains(&Part::Id)
    }

    /// The environment variables it reads.
    pub fn env_vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env(var) => Some(var.as_str()),
            _ => None,
        })
    }

    /// The URL for `id`; `env` looks variables up (the process environment in production, a
    /// map in tests). Ids and values are percent-encoded, so either fits a path segment or a
    /// query value.
    pub fn expand(
        &self,
        id: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Url, UrlTemplateError> {
        let mut out = String::with_capacity(self.text.len() + id.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Id => out.push_str(&encode_component(id)),
                Part::Env(var) => {
                    let value =
                        env(var).ok_or_else(|| UrlTemplateError::MissingEnv(var.clone()))?;
                    out.push_str(&encode_component(&value));
                }
            }
        }
        // The parse error never echoes the URL, which may hold a key.
        Url::parse(&out).map_err(|e| UrlTemplateError::Invalid(e.to_string()))
    }

    /// The template as written (placeholders, never their values).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Everything but RFC 3986's unreserved characters.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a value so it fits a path segment or a query value alike: an id, a key, a
/// scraped name (never trusted in a URL).
pub(crate) fn encode_component(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "s3cr et/&".to_string())
    }

    #[test]
    fn placeholders_are_expanded_and_encoded() {
        let t = UrlTemplate::parse("https://api.example.org/c?id={id}&key={env:KEY}").unwrap();
        assert_eq!(t.env_vars().collect::<Vec<_>>(), ["KEY"]);
        let url = t.expand("UC a/b", env).unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.example.org/c?id=UC%20a%2Fb&key=s3cr%20et%2F%26"
        );
    }

    #[test]
    fn a_missing_variable_is_a_typed_error_naming_it_without_the_url() {
        let t = UrlTemplate::parse("https://x.example/{id}?k={env:NOPE}").unwrap();
        let err = t.expand("a", env).unwrap_err();
        assert_eq!(err, UrlTemplateError::MissingEnv("NOPE".into()));
        assert_eq!(err.to_string(), "environment variable NOPE is not set");
    }

    #[test]
    fn malformed_templates_are_refused_when_parsed() {
        let parse = |t: &str| UrlTemplate::parse(t).unwrap_err();
        assert_eq!(
            parse("https://x.example/{name}"),
            UrlTemplateError::UnknownPlaceholder("name".into())
        );
        assert_eq!(parse("https://x.example/{id"), UrlTemplateError::Unclosed);
        assert_eq!(
            parse("https://x.example/{env:}/{id}").to_string(),
            "unknown placeholder `{env:}`: use {id} or {env:NAME}"
        );
        assert!(!UrlTemplate::parse("https://x.example/all")
            .unwrap()
            .has_id());
        assert!(matches!(
            parse("ftp://x.example/{id}"),
            UrlTemplateError::NotHttp(_)
        ));
    }
}
