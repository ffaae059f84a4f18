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
pub(crate) struct Extracted {
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
pub(crate) fn extract_json(body: &str, metrics: &[(Metric, String)]) -> Result<Extracted, String> {
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

/// The most elements an HTML page may hold before it is refused unparsed.
pub(crate) const MAX_ELEMENTS: usize = 100_000;
/// The deepest nesting an HTML page may hold before it is refused unparsed.
pub(crate) const MAX_DEPTH: usize = 1_000;

/// Elements that never hold others, and those whose end tag the parser supplies when a
/// sibling starts: neither makes a page deeper.
const FLAT: [&str; 28] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
    "tbody", "tfoot", "rp", "rt",
];

/// Checks, in one linear scan, that a page is not built to make the HTML parser slow: at most
/// [`MAX_ELEMENTS`] elements and [`MAX_DEPTH`] levels of nesting (unclosed elements count, as
/// the parser keeps them open). 300,000 unclosed elements take html5ever minutes; `max_body`
/// bounds a page's size, this bounds its shape.
pub(crate) fn check_html_shape(body: &str) -> Result<(), String> {
    let bytes = body.as_bytes();
    let (mut elements, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &bytes[i..]) {
        i += off + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = body[start..start + name_len].to_ascii_lowercase();
        let tag_end = memchr::memchr(b'>', &bytes[start..]).map_or(bytes.len(), |e| start + e);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        if closing {
            depth = depth.saturating_sub(usize::from(!FLAT.contains(&name.as_str())));
            continue;
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return Err(format!(
                "the page holds more than {MAX_ELEMENTS} HTML elements: refused unparsed"
            ));
        }
        if name == "script" || name == "style" {
            // Their text is not markup: skip to the end tag.
            i = end_tag(bytes, tag_end.min(bytes.len()), name.as_bytes());
            continue;
        }
        if !self_closing && !FLAT.contains(&name.as_str()) {
            depth += 1;
            deepest = deepest.max(depth);
            if deepest > MAX_DEPTH {
                return Err(format!(
                    "the page nests HTML elements more than {MAX_DEPTH} deep: refused unparsed"
                ));
            }
        }
        i = tag_end.min(bytes.len());
    }
    Ok(())
}

/// Where the end tag `</name` starts at or after `from` (any case), or the end of the page.
fn end_tag(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(off) = memchr::memchr(b'<', &bytes[i..]) {
        let at = i + off;
        let rest = &bytes[at + 1..];
        if rest.first() == Some(&b'/')
            && rest.len() > name.len()
            && rest[1..=name.len()].eq_ignore_ascii_case(name)
        {
            return at;
        }
        i = at + 1;
    }
    bytes.len()
}

/// Reads each metric from the first element matching its selector whose text (through the
/// regex, first capture group or else the whole match) is a count.
pub(crate) fn extract_html(body: &str, metrics: &[(Metric, HtmlMetric)]) -> Extracted {
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
    use crate::model::Metric;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_answers_never_panic_the_extractors(body in "\\PC{0,512}", pointer in "(/[a-z0-9~]{0,4}){0,3}") {
            let _ = extract_json(&body, &[(Metric::new("m").unwrap(), pointer)]);
            let metric = crate::config::HtmlMetric {
                selector: scraper::Selector::parse("div > span, .a").unwrap(),
                selector_text: "div > span, .a".into(),
                regex: Some(regex::Regex::new(r"(\d+)").unwrap()),
            };
            let _ = extract_html(&body, &[(Metric::new("m").unwrap(), metric)]);
        }
    }

    #[test]
    fn pages_built_to_stall_the_parser_are_refused_in_one_scan() {
        let unclosed = "<div>".repeat(300_000);
        assert!(check_html_shape(&unclosed).unwrap_err().contains("deep"));
        let flat = "<span></span>".repeat(150_000);
        assert!(check_html_shape(&flat)
            .unwrap_err()
            .contains("more than 100000"));
        let scripts = "<script>x<y</script>".repeat(50_000);
        assert_eq!(check_html_shape(&scripts), Ok(()));
        let deep = format!("{}{}", "<div>".repeat(40_000), "</div>".repeat(40_000));
        assert!(check_html_shape(&deep).unwrap_err().contains("deep"));
        let formatting = "<b>".repeat(5_000);
        assert!(check_html_shape(&formatting).is_err());
        // Ordinary pages pass: many list items and paragraphs whose end tags are implied,
        // void elements, and a script whose text holds `<` signs.
        let list = format!(
            "<html><body><ul>{}</ul><p>a<p>b<br><img src=x>\
             <script>if (a<b && c<d) {{ x = '<div>'.repeat(9e9) }}</script></body></html>",
            "<li>x".repeat(5_000)
        );
        assert_eq!(check_html_shape(&list), Ok(()));
    }

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
