//! Custom `[[source]]`s: any JSON API read by JSON pointer, any HTML page read by CSS selector
//! and an optional regex. Their URLs are [`crate::config::UrlTemplate`]s, filled in per id.
//!
//! Values are read as numbers, numeric strings or human counts in English and French forms
//! (see [`super::numbers`]).

use serde_json::Value;

use super::numbers::parse_count;
use crate::config::HtmlMetric;
use crate::model::Metric;

/// What a page gave: the metrics found, and one line per metric that was not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub metrics: Vec<(Metric, f64)>,
    pub missing: Vec<String>,
}

/// A JSON value as a count: a non-negative number, or a string holding a human count.
fn json_count(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite() && *f >= 0.0),
        Value::String(s) => parse_count(s),
        _ => None,
    }
}

/// Reads each metric at its JSON pointer. `Err` when the body is not JSON at all.
pub fn extract_json(body: &str, metrics: &[(Metric, String)]) -> Result<Extracted, String> {
    let root: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let mut out = Extracted::default();
    for (name, pointer) in metrics {
        match root.pointer(pointer) {
            Some(v) => match json_count(v) {
                Some(n) => out.metrics.push((name.clone(), n)),
                None => out
                    .missing
                    .push(format!("{name}: {pointer} is not a count ({})", short(v))),
            },
            None => out.missing.push(format!("{name}: missing {pointer}")),
        }
    }
    Ok(out)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Reads each metric from the first element matching its selector whose text (through the
/// regex, first capture group or else the whole match) is a count.
pub fn extract_html(body: &str, metrics: &[(Metric, HtmlMetric)]) -> Extracted {
    let doc = scraper::Html::parse_document(body);
    let mut out = Extracted::default();
    for (name, metric) in metrics {
        let mut matched = false;
        let found = doc.select(&metric.selector).find_map(|el| {
            matched = true;
            let text: String = el.text().collect();
            let text = text.trim();
            match &metric.regex {
                Some(re) => re.captures(text).and_then(|c| {
                    c.get(1)
                        .or_else(|| c.get(0))
                        .and_then(|m| parse_count(m.as_str()))
                }),
                None => parse_count(text),
            }
        });
        match found {
            Some(n) => out.metrics.push((name.clone(), n)),
            None if matched => out.missing.push(format!(
                "{name}: no count in the text of `{}`",
                metric.selector_text
            )),
            None => out.missing.push(format!(
                "{name}: `{}` matched nothing",
                metric.selector_text
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str) -> Metric {
        Metric::new(name).unwrap()
    }

    #[test]
    fn json_counts_are_numbers_or_numeric_strings() {
        let body = r#"{"items":[{"statistics":{"subscriberCount":"1,2 k","viewCount":123456,"neg":-4,"obj":{}}}]}"#;
        let metrics = vec![
            (
                Metric::FOLLOWERS,
                "/items/0/statistics/subscriberCount".to_string(),
            ),
            (Metric::VIEWS, "/items/0/statistics/viewCount".to_string()),
            (m("neg"), "/items/0/statistics/neg".to_string()),
            (m("gone"), "/items/1".to_string()),
        ];
        let got = extract_json(body, &metrics).unwrap();
        assert_eq!(
            got.metrics,
            vec![(Metric::FOLLOWERS, 1200.0), (Metric::VIEWS, 123_456.0)]
        );
        assert_eq!(got.missing.len(), 2);
        assert!(got.missing[1].contains("missing /items/1"));
        assert!(extract_json("<html>", &metrics).is_err());
    }

    #[test]
    fn html_counts_by_selector_and_regex() {
        let body = r#"<div class="reviews-count">Avis : 1 234 clients</div>
            <span class="fans">116,9 k abonnés</span><p class="empty">—</p>"#;
        let html = |selector: &str, regex: Option<&str>| HtmlMetric {
            selector: scraper::Selector::parse(selector).unwrap(),
            selector_text: selector.to_string(),
            regex: regex.map(|r| regex::Regex::new(r).unwrap()),
        };
        let metrics = vec![
            (m("reviews"), html(".reviews-count", Some("([0-9 ]+[0-9])"))),
            (m("fans"), html("span.fans", Some(r"[0-9][0-9,.]*\s?[kM]?"))),
            (m("empty"), html(".empty", None)),
            (m("none"), html(".nothing", None)),
        ];
        let got = extract_html(body, &metrics);
        assert_eq!(
            got.metrics,
            vec![(m("reviews"), 1234.0), (m("fans"), 116_900.0)]
        );
        assert_eq!(got.missing.len(), 2);
        assert!(got.missing[1].contains("matched nothing"));
    }
}
