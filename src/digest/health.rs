//! Collection health for a reader: failing sources grouped by cause, each group one line of
//! advice in the reader's language. The raw detail of each failure stays in `status` and in
//! the logs, where whoever runs the server looks.

use super::model::HealthItem;
use crate::model::UnixSeconds;

/// Names shown per group; the rest is a count.
pub(super) const NAMES_PER_GROUP: usize = 4;

/// The failing sources that share one cause.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthGroup {
    /// `network`, `blocked`, … (the failure kinds of `status`).
    pub kind: String,
    pub count: usize,
    /// Since when the longest-failing of them has not been collected: its last success, or
    /// its latest failure when it never succeeded.
    pub since: UnixSeconds,
    /// How many never succeeded at all.
    pub never_collected: usize,
    /// The first few names, with their pages.
    pub names: Vec<(String, Option<String>)>,
}

/// Groups failing sources by cause, the largest group first.
pub fn group_health(items: &[HealthItem]) -> Vec<HealthGroup> {
    let mut groups: Vec<HealthGroup> = Vec::new();
    for h in items {
        let since = h.last_success.unwrap_or(h.failing_since);
        let g = match groups.iter_mut().position(|g| g.kind == h.kind) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(HealthGroup {
                    kind: h.kind.clone(),
                    count: 0,
                    since,
                    never_collected: 0,
                    names: Vec::new(),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        g.count += 1;
        g.since = g.since.min(since);
        if h.last_success.is_none() {
            g.never_collected += 1;
        }
        if g.names.len() < NAMES_PER_GROUP {
            g.names.push((h.name.clone(), h.url.clone()));
        }
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(name: &str, kind: &str, since: i64, ok: Option<i64>) -> HealthItem {
        HealthItem {
            name: name.into(),
            url: None,
            kind: kind.into(),
            detail: "error sending request".into(),
            failing_since: since,
            last_success: ok,
        }
    }

    #[test]
    fn one_group_per_cause_largest_first() {
        let mut items: Vec<HealthItem> = (0..11)
            .map(|i| failing(&format!("#t{i}"), "network", 100 + i, Some(50)))
            .collect();
        items.push(failing("@gone", "not_found", 10, None));
        let g = group_health(&items);
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].kind.as_str(), g[0].count, g[0].since),
            ("network", 11, 50)
        );
        assert_eq!(g[0].names.len(), NAMES_PER_GROUP);
        assert_eq!((g[1].kind.as_str(), g[1].never_collected), ("not_found", 1));
    }
}
