//! The watchlist as it deserializes (unknown keys refused, spans kept), and its checks into
//! the typed [`Watchlist`]: TikTok names, discovery, custom sources and their URL templates.

use super::*;
use crate::config::{UrlTemplate, UrlTemplateError};
use crate::language::tr;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWatchlist {
    #[serde(default)]
    tiktok: RawTiktok,
    #[serde(default)]
    discovery: RawDiscovery,
    #[serde(default)]
    source: Vec<RawSource>,
    #[serde(default)]
    campaign: Vec<super::raw_campaign::RawCampaign>,
    #[serde(default)]
    shop: RawShop,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShop {
    region: Option<Spanned<String>>,
    #[serde(default)]
    products: Vec<Spanned<RawProduct>>,
}

/// A product: its address, or `{ url, my_price }`.
#[derive(Debug)]
enum RawProduct {
    Url(String),
    Priced(RawPricedProduct),
}

// By hand rather than `#[serde(untagged)]`, which would swallow a misspelt key's message.
impl<'de> Deserialize<'de> for RawProduct {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawProduct;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a product address (\"https://www.tiktok.com/shop/pdp/NAME/ID\") or a table { url = \"...\", my_price = 8.90 }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawProduct, E> {
                Ok(RawProduct::Url(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawProduct, A::Error> {
                RawPricedProduct::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawProduct::Priced)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPricedProduct {
    url: String,
    my_price: Option<f64>,
}

impl RawShop {
    fn check(&self, file: &SourceFile) -> Result<crate::config::ShopWatch, ConfigError> {
        let region = match &self.region {
            Some(r) => {
                let code = r.get_ref().trim().to_ascii_uppercase();
                if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(file.at(r, "`region` is a two-letter country code, e.g. \"FR\""));
                }
                code
            }
            None => "FR".to_owned(),
        };
        let mut products: Vec<crate::config::ShopProduct> = Vec::new();
        for raw in &self.products {
            let (url, my_price) = match raw.get_ref() {
                RawProduct::Url(u) => (u.as_str(), None),
                RawProduct::Priced(p) => (p.url.as_str(), p.my_price),
            };
            let Some((slug, product_id)) = crate::config::parse_product_url(url) else {
                let shown: String = url.escape_debug().take(100).collect();
                return Err(file.at(
                    raw,
                    format!("`{shown}` is not a TikTok Shop product address: copy it from the product's page, e.g. \"https://www.tiktok.com/shop/pdp/baume-karite-bio/1729447605324124806\""),
                ));
            };
            if let Some(p) = my_price {
                if !p.is_finite() || p <= 0.0 {
                    return Err(file.at(
                        raw,
                        format!("`my_price` cannot be {p}: write your own price of this product"),
                    ));
                }
            }
            if products.iter().any(|p| p.product_id == product_id) {
                return Err(file.at(raw, format!("product {product_id} is listed twice")));
            }
            products.push(crate::config::ShopProduct {
                product_id,
                slug,
                my_price,
            });
        }
        Ok(crate::config::ShopWatch { region, products })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiktok {
    #[serde(default)]
    hashtags: Vec<Spanned<String>>,
    #[serde(default)]
    creators: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscovery {
    enabled: Option<bool>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    max_tracked: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    ids: Spanned<Vec<Spanned<String>>>,
    metrics: Spanned<BTreeMap<String, Spanned<RawMetric>>>,
}

/// A metric of a custom source: a string (JSON pointer, or a bare CSS selector) or a
/// `{ selector, regex }` table.
#[derive(Debug)]
enum RawMetric {
    Pointer(String),
    Html(RawHtmlMetric),
}

// Written by hand rather than `#[serde(untagged)]`: untagged enums swallow the inner error,
// and a misspelt `selecter` must still be reported as an unknown key with its location.
impl<'de> Deserialize<'de> for RawMetric {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawMetric;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON pointer string (\"/a/b\") or a table { selector = \"...\", regex = \"...\" }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawMetric, E> {
                Ok(RawMetric::Pointer(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawMetric, A::Error> {
                RawHtmlMetric::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawMetric::Html)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHtmlMetric {
    selector: String,
    regex: Option<String>,
}

impl RawWatchlist {
    pub(super) fn check(self, file: &SourceFile) -> Result<Watchlist, ConfigError> {
        let hashtags = names(file, &self.tiktok.hashtags, "hashtag")?;
        let creators = names(file, &self.tiktok.creators, "creator")?;
        let mut keywords = Vec::new();
        for k in &self.discovery.keywords {
            let n = normalize_name(k.get_ref());
            if n.is_empty() {
                return Err(file.at(k, "empty keyword"));
            }
            if !keywords.contains(&n) {
                keywords.push(n);
            }
        }
        let discovery = Discovery {
            enabled: self.discovery.enabled.unwrap_or(true),
            keywords,
            max_tracked: match &self.discovery.max_tracked {
                Some(v) => count(file, v, 0, 1000)? as usize,
                None => 20,
            },
        };
        let mut sources: Vec<(Source, Range<usize>)> = Vec::new();
        for raw in self.source {
            let name_span = raw.name.span();
            let source = raw.check(file)?;
            if let Some((_, first)) = sources.iter().find(|(s, _)| s.name == source.name) {
                let (line, col) = line_col(file.text, first.start);
                return Err(file.error(
                    name_span,
                    format!(
                        "duplicate source name `{}`: same as the [[source]] at line {line}, column {col}",
                        source.name
                    ),
                ));
            }
            sources.push((source, name_span));
        }
        let shop = self.shop.check(file)?;
        let mut campaigns: Vec<crate::config::Campaign> = Vec::new();
        for raw in self.campaign {
            let name_span = raw.name_span();
            let campaign = raw.check(file)?;
            if campaigns.iter().any(|c| c.name == campaign.name) {
                return Err(file.error(
                    name_span,
                    format!(
                        "two campaigns are named `{}`: give each its own name",
                        campaign.name
                    ),
                ));
            }
            campaigns.push(campaign);
        }
        Ok(Watchlist {
            path: file.path.to_path_buf(),
            tiktok: TiktokWatch { hashtags, creators },
            discovery,
            sources: sources.into_iter().map(|(s, _)| s).collect(),
            campaigns,
            shop,
        })
    }
}

/// Normalises hashtags or handles; a name listed twice (after normalisation) is an error that
/// names both places, since a silent merge would hide a typo.
pub(super) fn names(
    file: &SourceFile,
    raw: &[Spanned<String>],
    what: &str,
) -> Result<Vec<String>, ConfigError> {
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut out = Vec::new();
    for item in raw {
        // A handle among the hashtags (or a tag among the creators) is a list mix-up.
        let written = item.get_ref().trim();
        if what == "hashtag" && written.starts_with('@') {
            return Err(file.at(
                item,
                tr!(
                    format!(
                        "\"{}\" est un créateur : déplacez-le dans `creators = [...]` sous [tiktok]",
                        written.escape_debug()
                    ),
                    format!(
                        "\"{}\" is a creator: move it to `creators = [...]` under [tiktok]",
                        written.escape_debug()
                    )
                ),
            ));
        }
        if what == "creator" && written.starts_with('#') {
            return Err(file.at(
                item,
                tr!(
                    format!(
                        "\"{}\" est un hashtag : déplacez-le dans `hashtags = [...]` sous [tiktok]",
                        written.escape_debug()
                    ),
                    format!(
                        "\"{}\" is a hashtag: move it to `hashtags = [...]` under [tiktok]",
                        written.escape_debug()
                    )
                ),
            ));
        }
        let name = normalize_name(item.get_ref());
        if name.is_empty() {
            return Err(file.at(item, format!("empty {what} name")));
        }
        let (valid, rule) = if what == "creator" {
            (
                crate::model::is_valid_handle(&name),
                "TikTok handles are 2 to 24 letters, digits, `_` or `.`, not ending with `.`",
            )
        } else {
            (
                crate::model::is_valid_tag(&name),
                "TikTok hashtags are letters, digits and `_`, at most 100 characters",
            )
        };
        if !valid {
            let shown: String = item.get_ref().escape_debug().take(60).collect();
            return Err(file.at(
                item,
                format!("\"{shown}\" is not a valid {what} name: {rule}"),
            ));
        }
        if let Some(first) = seen.get(&name) {
            let (line, col) = line_col(file.text, first.start);
            return Err(file.at(
                item,
                tr!(
                    format!(
                        "`{}` en double : c'est déjà `{name}`, ligne {line}, colonne {col}",
                        item.get_ref()
                    ),
                    format!(
                        "duplicate {what} `{}`: same as `{name}` at line {line}, column {col}",
                        item.get_ref()
                    )
                ),
            ));
        }
        seen.insert(name.clone(), item.span());
        out.push(name);
    }
    Ok(out)
}

impl RawSource {
    fn check(self, file: &SourceFile) -> Result<Source, ConfigError> {
        let name = self.name.get_ref().trim().to_ascii_lowercase();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(file.at(
                &self.name,
                "a source name uses letters, digits, `_` and `-` only (it prefixes entity ids)",
            ));
        }
        if name == crate::model::TIKTOK {
            return Err(file.at(
                &self.name,
                "`tiktok` is the built-in source: choose another name",
            ));
        }
        let url = url_template(file, &self.url)?;
        if self.ids.get_ref().is_empty() {
            return Err(file.at(&self.ids, "`ids` needs at least one id"));
        }
        let mut ids: Vec<String> = Vec::new();
        for id in self.ids.get_ref() {
            let trimmed = id.get_ref().trim();
            if trimmed.is_empty() {
                return Err(file.at(id, "empty id"));
            }
            if ids.iter().any(|i| i == trimmed) {
                return Err(file.at(id, format!("duplicate id `{trimmed}`")));
            }
            ids.push(trimmed.to_string());
        }
        if self.metrics.get_ref().is_empty() {
            return Err(file.at(&self.metrics, "`metrics` needs at least one metric"));
        }
        let mut names = Vec::new();
        for name in self.metrics.get_ref().keys() {
            names.push(
                crate::model::Metric::new(name)
                    .map_err(|e| file.at(&self.metrics, e.to_string()))?,
            );
        }
        let kind = match self.kind.get_ref().trim() {
            "json" => {
                let mut metrics = Vec::new();
                for (metric, spec) in names.into_iter().zip(self.metrics.get_ref().values()) {
                    match spec.get_ref() {
                        RawMetric::Pointer(p) if p.is_empty() || p.starts_with('/') => {
                            metrics.push((metric, p.clone()))
                        }
                        RawMetric::Pointer(p) => {
                            return Err(file.at(
                                spec,
                                format!("`{p}` is not a JSON pointer: it starts with `/`, e.g. \"/items/0/statistics/viewCount\""),
                            ))
                        }
                        RawMetric::Html(_) => {
                            return Err(file.at(
                                spec,
                                "a json source reads each metric by a JSON pointer string, not a selector",
                            ))
                        }
                    }
                }
                SourceKind::Json { metrics }
            }
            "html" => {
                let mut metrics = Vec::new();
                for (metric, spec) in names.into_iter().zip(self.metrics.get_ref().values()) {
                    let (selector_text, regex) = match spec.get_ref() {
                        RawMetric::Html(h) => (h.selector.clone(), h.regex.clone()),
                        RawMetric::Pointer(s) => (s.clone(), None),
                    };
                    let selector = scraper::Selector::parse(&selector_text).map_err(|e| {
                        file.at(spec, format!("invalid CSS selector `{selector_text}`: {e}"))
                    })?;
                    let regex = match regex {
                        Some(r) => {
                            let compiled = regex::Regex::new(&r)
                                .map_err(|e| file.at(spec, format!("invalid regex `{r}`: {e}")))?;
                            if compiled.captures_len() > 2 {
                                return Err(file.at(
                                    spec,
                                    format!("regex `{r}` has more than one capture group: the number is taken from the first, so keep only one"),
                                ));
                            }
                            Some(compiled)
                        }
                        None => None,
                    };
                    metrics.push((
                        metric,
                        HtmlMetric {
                            selector,
                            selector_text,
                            regex,
                        },
                    ));
                }
                SourceKind::Html { metrics }
            }
            other => {
                return Err(file.at(
                    &self.kind,
                    format!("unknown source kind `{other}`: use \"json\" or \"html\""),
                ))
            }
        };
        Ok(Source {
            name,
            url,
            ids,
            kind,
        })
    }
}

/// A source URL must be http(s), have an `{id}`, and every `{env:NAME}` it reads must be set.
fn url_template(file: &SourceFile, value: &Spanned<String>) -> Result<UrlTemplate, ConfigError> {
    let template =
        UrlTemplate::parse(value.get_ref()).map_err(|e| file.at(value, e.to_string()))?;
    if !template.has_id() {
        return Err(file.at(value, UrlTemplateError::NoId.to_string()));
    }
    // Checked with the rest of the config: a key missing from the service's environment is a
    // mistake to fix before it runs, not a network failure at every pass.
    for var in template.env_vars() {
        if std::env::var_os(var).is_none() {
            return Err(file.at(
                value,
                format!(
                    "the environment variable `{var}` (for `{{env:{var}}}`) is not set: \
                     set it where trendwatch runs (for the service: `Environment=` or \
                     `EnvironmentFile=` in a drop-in)"
                ),
            ));
        }
    }
    Ok(template)
}
