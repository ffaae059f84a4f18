//! TikTok Shop products: sales that take off, and prices that drop.
//!
//! Units sold are a cumulative counter like a hashtag's views, judged with the same
//! discipline (the product's own wobble and the count test in the units the counter moves
//! in), with an excess of at least [`MIN_EXTRA_UNITS`] units so that a product selling a
//! handful a week never alerts. A price drop is a fact, not a statistic: the lowest price now
//! at least [`PRICE_DROP`] under its usual (the median of the baseline before the latest
//! reading), or under the shop's own price (`my_price`) when it was not before.

use super::*;

/// Units beyond the usual below which a rise of sales is not news.
pub const MIN_EXTRA_UNITS: f64 = 30.0;
/// The fall of the price, as a fraction of its usual, that is worth telling.
pub const PRICE_DROP: f64 = 0.10;

pub(super) fn product_trends(
    input: &DetectInput,
    e: &EntitySeries,
    at: UnixSeconds,
    cfg: &DetectConfig,
    baseline: i64,
    recent: i64,
) -> Vec<Trend> {
    let mut out = Vec::new();
    if let Some(points) = e.metric(&Metric::SOLD) {
        let floor = series::Floor {
            rate: 0.0,
            excess: MIN_EXTRA_UNITS,
        };
        if let Some(g) = series::assess(points, at, baseline, recent, floor).emerging {
            let evidence = format!(
                "units sold per day {:.0} against {:.0} usually ({:.1}x) since {}",
                g.rate_now * 24.0,
                g.rate_baseline * 24.0,
                g.growth,
                rfc3339(g.since)
            );
            out.push(take_off(
                e,
                TrendKind::ProductRising,
                Metric::SOLD,
                &g,
                cfg,
                evidence,
            ));
        }
    }
    if let Some(points) = e.metric(&Metric::PRICE) {
        let my_price = input.my_prices.get(&e.entity).copied();
        if let Some(t) = price_drop(e, points, at, baseline, my_price) {
            out.push(t);
        }
    }
    out
}

/// The drop of the latest price against its usual, or under `my_price`.
fn price_drop(
    e: &EntitySeries,
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    my_price: Option<f64>,
) -> Option<Trend> {
    let seen: Vec<(UnixSeconds, f64)> = points
        .iter()
        .copied()
        .filter(|(t, v)| *t <= at && v.is_finite() && *v > 0.0)
        .collect();
    let &(now_at, now) = seen.last()?;
    let before: Vec<f64> = seen
        .iter()
        .filter(|(t, _)| *t >= at - baseline && *t < now_at)
        .map(|p| p.1)
        .collect();
    let usual = stats::median(&before)?;
    // When the price reached today's level: the first of the readings at it since the last
    // one above it.
    let since = seen
        .iter()
        .rev()
        .take_while(|(_, v)| *v <= now * 1.001)
        .last()
        .map_or(now_at, |p| p.0);
    let drop = 1.0 - now / usual;
    let under_mine = my_price.filter(|mine| now < *mine && usual >= *mine);
    if drop < PRICE_DROP && under_mine.is_none() {
        return None;
    }
    let evidence = match under_mine {
        Some(mine) => format!(
            "price {now} from {usual} usually ({:.0}% less), under your {mine} since {}",
            drop * 100.0,
            rfc3339(since)
        ),
        None => format!(
            "price {now} from {usual} usually ({:.0}% less) since {}",
            drop * 100.0,
            rfc3339(since)
        ),
    };
    Some(Trend {
        entity: e.entity.clone(),
        kind: TrendKind::PriceDrop,
        metric: Metric::PRICE,
        // 10 % is 3, 20 % is 6: the same scale as the statistical kinds.
        score: (3.0 * drop / PRICE_DROP).max(3.0),
        rate_now: now,
        rate_baseline: usual,
        growth: now / usual,
        since: Some(since),
        first_seen: e.first_seen,
        evidence,
        details: TrendDetails::None,
        confidence: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(points: Vec<(Metric, Vec<(UnixSeconds, f64)>)>) -> EntitySeries {
        EntitySeries {
            entity: EntityId::product("1729447605324124806"),
            first_seen: Some(0),
            metrics: points,
        }
    }

    const DAY: i64 = 86_400;

    fn cfg() -> DetectConfig {
        DetectConfig {
            baseline: std::time::Duration::from_secs(14 * 86_400),
            recent: std::time::Duration::from_secs(86_400),
            min_rate: 1000.0,
            min_views: crate::config::DEFAULT_MIN_VIEWS,
            min_score: crate::config::DEFAULT_MIN_SCORE,
        }
    }

    #[test]
    fn a_price_ten_percent_under_its_usual_is_a_drop_and_a_steady_one_is_not() {
        let at = 30 * DAY;
        let steady: Vec<_> = (0..30).map(|d| (d * DAY, 8.90)).collect();
        let mut dropped = steady.clone();
        dropped.push((at - 3600, 7.99));
        let input = DetectInput::default();
        let e = product(vec![(Metric::PRICE, dropped.clone())]);
        let t = price_drop(&e, &dropped, at, 14 * DAY, None).expect("a drop");
        assert_eq!(t.kind, TrendKind::PriceDrop);
        assert_eq!((t.rate_now, t.rate_baseline), (7.99, 8.90));
        assert!(t.score >= 3.0);
        assert_eq!(price_drop(&e, &steady, at, 14 * DAY, None), None);
        // 5 % less is not a drop, unless it goes under the shop's own price.
        let mut slight = steady.clone();
        slight.push((at - 3600, 8.45));
        assert_eq!(price_drop(&e, &slight, at, 14 * DAY, None), None);
        let mine = price_drop(&e, &slight, at, 14 * DAY, Some(8.50)).expect("under my price");
        assert!(
            mine.evidence.contains("under your 8.5"),
            "{}",
            mine.evidence
        );
        let _ = input;
    }

    #[test]
    fn a_product_that_stops_selling_or_sells_a_handful_never_alerts() {
        let at = 28 * DAY;
        let cfg = cfg();
        let input = DetectInput::default();
        // 100 a day for three weeks, then nothing.
        let stopped: Vec<_> = (0..28 * 8)
            .map(|i| {
                let t = i * 3 * 3600;
                (t, (t.min(21 * DAY) as f64 / DAY as f64 * 100.0).round())
            })
            .collect();
        let e = product(vec![(Metric::SOLD, stopped)]);
        assert!(product_trends(&input, &e, at, &cfg, 14 * DAY, DAY).is_empty());
        // Two a day, then six a day: three times more, but not 30 units beyond usual.
        let handful: Vec<_> = (0..28 * 8)
            .map(|i| {
                let t = i * 3 * 3600;
                let days = t as f64 / DAY as f64;
                let sold: f64 = if days < 26.0 {
                    2.0 * days
                } else {
                    52.0 + 6.0 * (days - 26.0)
                };
                (t, sold.floor())
            })
            .collect();
        let e = product(vec![(Metric::SOLD, handful)]);
        assert!(product_trends(&input, &e, at, &cfg, 14 * DAY, DAY).is_empty());
    }

    #[test]
    fn sales_taking_off_are_a_product_rising() {
        let at = 28 * DAY;
        let cfg = cfg();
        // 20 a day with a daily wobble, then 140 a day for the last three days.
        let mut sold: f64 = 0.0;
        let points: Vec<_> = (0..28 * 8)
            .map(|i| {
                let t = i * 3 * 3600;
                let per_reading = if t < 25 * DAY {
                    20.0 / 8.0
                } else {
                    140.0 / 8.0
                };
                sold += per_reading * if i % 2 == 0 { 0.8 } else { 1.2 };
                (t, sold.floor())
            })
            .collect();
        let e = product(vec![(Metric::SOLD, points)]);
        let found = product_trends(&DetectInput::default(), &e, at, &cfg, 14 * DAY, DAY);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, TrendKind::ProductRising);
        assert!(found[0].growth > 3.0, "{}", found[0].growth);
    }
}
