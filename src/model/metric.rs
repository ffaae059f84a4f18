//! Metric names: the counters trendwatch reads from the platforms, and the names a custom
//! source gives its own.

use std::borrow::{Borrow, Cow};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The name of a metric of an entity (`views`, `followers`, a custom source's `reviews`).
///
/// Checked once where it enters (the watchlist, an imported CSV, a stored record): letters,
/// digits, `_`, `-` and `.`, at most [`Metric::MAX_CHARS`], so a name is safe as a CSV cell,
/// in a JSON key and in a digest, and two spellings of one name cannot both be stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Metric(Cow<'static, str>);

/// A name that cannot be a metric's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a metric name: letters, digits, `_`, `-` and `.`, at most {max} characters",
    max = Metric::MAX_CHARS
)]
pub struct MetricNameError(pub String);

impl Metric {
    /// Plays of a hashtag's videos (counter).
    pub const VIEWS: Metric = Metric(Cow::Borrowed("views"));
    /// Videos of a hashtag or a creator (counter).
    pub const VIDEOS: Metric = Metric(Cow::Borrowed("videos"));
    /// Followers of a creator (counter).
    pub const FOLLOWERS: Metric = Metric(Cow::Borrowed("followers"));
    /// Accounts a creator follows (counter).
    pub const FOLLOWING: Metric = Metric(Cow::Borrowed("following"));
    /// Likes a creator's videos received, or a followed video's (counter).
    pub const LIKES: Metric = Metric(Cow::Borrowed("likes"));
    /// Comments on a followed video (counter).
    pub const COMMENTS: Metric = Metric(Cow::Borrowed("comments"));
    /// Shares of a followed video (counter).
    pub const SHARES: Metric = Metric(Cow::Borrowed("shares"));
    /// Saves ("favourites") of a followed video (counter).
    pub const SAVES: Metric = Metric(Cow::Borrowed("saves"));
    /// Units of a shop product sold since it was listed (counter).
    pub const SOLD: Metric = Metric(Cow::Borrowed("sold"));
    /// A shop product's lowest SKU price, in its currency (gauge).
    pub const PRICE: Metric = Metric(Cow::Borrowed("price"));
    /// A shop product's average rating out of 5 (gauge).
    pub const RATING: Metric = Metric(Cow::Borrowed("rating"));
    /// Reviews of a shop product (counter).
    pub const REVIEWS: Metric = Metric(Cow::Borrowed("reviews"));
    /// Plays of a followed video (counter); what a breakout video's trend measures.
    pub const PLAYS: Metric = Metric(Cow::Borrowed("plays"));
    /// What a discovered tag's trend measures: the recent videos carrying it.
    pub const OCCURRENCES: Metric = Metric(Cow::Borrowed("occurrences"));
    /// What a creator's engagement trend measures: interactions per play.
    pub const ENGAGEMENT: Metric = Metric(Cow::Borrowed("engagement"));

    /// The counters of a followed video, in the order reports list them.
    pub const VIDEO_COUNTERS: [Metric; 5] = [
        Self::PLAYS,
        Self::LIKES,
        Self::COMMENTS,
        Self::SHARES,
        Self::SAVES,
    ];

    /// The longest name accepted.
    pub const MAX_CHARS: usize = 64;

    pub fn new(name: &str) -> Result<Metric, MetricNameError> {
        let ok = (1..=Self::MAX_CHARS).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        match Self::known(name) {
            Some(known) => Ok(known),
            None if ok => Ok(Metric(Cow::Owned(name.to_string()))),
            None => Err(MetricNameError(name.to_string())),
        }
    }

    /// A name read back from the store: it was checked when it was written (by the rules of
    /// the version that wrote it), and a stored series is never refused.
    pub(crate) fn stored(name: &str) -> Metric {
        Self::known(name).unwrap_or_else(|| Metric(Cow::Owned(name.to_string())))
    }

    /// The names trendwatch itself uses, without an allocation.
    fn known(name: &str) -> Option<Metric> {
        [
            Self::VIEWS,
            Self::VIDEOS,
            Self::FOLLOWERS,
            Self::FOLLOWING,
            Self::LIKES,
            Self::COMMENTS,
            Self::SHARES,
            Self::SAVES,
            Self::SOLD,
            Self::PRICE,
            Self::RATING,
            Self::REVIEWS,
            Self::PLAYS,
            Self::OCCURRENCES,
            Self::ENGAGEMENT,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }

    /// Whether the platform counts this upwards from zero (views, followers, plays, …): a
    /// negative value of it is a mistake, not a reading.
    pub fn is_counter(&self) -> bool {
        let gauges = [Self::ENGAGEMENT, Self::PRICE, Self::RATING];
        Self::known(self.as_str()).is_some_and(|m| !gauges.contains(&m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Metric {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Metric {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Metric {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Metric {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Metric {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Metric {
    type Err = MetricNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::new(s)
    }
}

impl TryFrom<String> for Metric {
    type Error = MetricNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Metric::new(&s)
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> String {
        m.0.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_counters_and_custom_names_are_metrics() {
        assert_eq!(Metric::new("views"), Ok(Metric::VIEWS));
        assert_eq!(
            Metric::new("reviews").map(String::from),
            Ok("reviews".into())
        );
        assert_eq!(Metric::new("avis_clients.total").map(|m| m.len()), Ok(18));
        assert_eq!(Metric::VIEWS, "views");
    }

    #[test]
    fn names_unsafe_in_a_csv_a_header_or_a_page_are_refused() {
        for bad in [
            "",
            "vues totales",
            "views,1",
            "a\u{202e}b",
            "x\n",
            &"m".repeat(65),
        ] {
            let e = Metric::new(bad).unwrap_err().to_string();
            assert!(e.contains("is not a metric name"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn metrics_read_and_write_as_plain_strings_in_json() {
        let json = serde_json::to_string(&vec![Metric::FOLLOWERS]).unwrap();
        assert_eq!(json, r#"["followers"]"#);
        let back: Vec<Metric> = serde_json::from_str(r#"["followers","avis"]"#).unwrap();
        assert_eq!(back[1].as_str(), "avis");
        assert!(serde_json::from_str::<Metric>(r#""a b""#).is_err());
    }
}
