use super::*;
use crate::config::{CampaignVideo, Objective};
use chrono::NaiveDate;

const AT: UnixSeconds = 1_796_000_000;

fn video(handle: &str, id: &str, cost: Option<f64>) -> CampaignVideo {
    CampaignVideo {
        handle: handle.into(),
        video_id: id.into(),
        cost,
    }
}

fn campaign(budget: Option<f64>, revenue: Option<f64>, videos: Vec<CampaignVideo>) -> Campaign {
    Campaign {
        name: "Baume karité — novembre".into(),
        start: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 11, 30),
        objective: Objective::Notoriety,
        currency: "EUR".into(),
        budget,
        revenue,
        hashtags: vec!["baumekarite".into()],
        videos,
        creators: vec![],
    }
}

/// One reading of every counter of `v` at `t`.
fn reading(
    input: &mut CampaignInput,
    v: &CampaignVideo,
    t: UnixSeconds,
    counts: [f64; 5],
    followers: f64,
) {
    let series = input.series.entry(v.entity()).or_default();
    for (m, value) in Metric::VIDEO_COUNTERS.into_iter().zip(counts) {
        series.entry(m).or_default().push((t, value));
    }
    series
        .entry(Metric::FOLLOWERS)
        .or_default()
        .push((t, followers));
}

#[test]
fn each_formula_on_exact_numbers() {
    assert_eq!(engagement_rate(10_910.0, 250_000.0), Some(0.04364));
    assert_eq!(engagement_rate(5.0, 0.0), None);
    assert_eq!(cpm(600.0, 250_000.0), Some(2.4));
    assert_eq!(cpm(600.0, 0.0), None);
    assert_eq!(cpe(600.0, 12_000.0), Some(0.05));
    assert_eq!(cpe(600.0, 0.0), None);
    assert_eq!(roas(Some(2400.0), 1800.0), Some(2400.0 / 1800.0));
    assert_eq!(roas(None, 1800.0), None);
    assert_eq!(roas(Some(2400.0), 0.0), None);
    let counts = Counts {
        views: 1.0,
        likes: 9100.0,
        comments: 410.0,
        shares: 520.0,
        saves: 880.0,
    };
    assert_eq!(counts.engagements(), 10_910.0);
}

#[test]
fn unpriced_videos_share_what_the_budget_leaves() {
    let c = campaign(
        Some(1800.0),
        None,
        vec![
            video("lea", "1", Some(600.0)),
            video("tam", "2", None),
            video("zoe", "3", None),
        ],
    );
    assert_eq!(video_costs(&c), vec![600.0, 600.0, 600.0]);
    let over = campaign(
        Some(500.0),
        None,
        vec![video("lea", "1", Some(600.0)), video("tam", "2", None)],
    );
    assert_eq!(video_costs(&over), vec![600.0, 0.0]);
    let no_budget = campaign(None, None, vec![video("lea", "1", Some(250.0))]);
    assert_eq!(no_budget.total_cost(), Some(250.0));
}

#[test]
fn a_campaign_as_of_a_time_per_video_creator_and_in_total() {
    // Video ids carry their upload time: 1,795,000,000 for both.
    let id = |n: u64| ((1_795_000_000u64 << 32) + n).to_string();
    let lea = video("lea.soinsnaturels", &id(1), Some(600.0));
    let tam = video("atelier.lavande", &id(2), None);
    let c = campaign(Some(1800.0), Some(2400.0), vec![lea.clone(), tam.clone()]);
    let mut input = CampaignInput::default();
    let up = 1_795_000_000;
    reading(
        &mut input,
        &lea,
        up + 3600,
        [20_000.0, 900.0, 40.0, 50.0, 80.0],
        48_000.0,
    );
    reading(
        &mut input,
        &lea,
        up + 7 * DAY,
        [250_000.0, 9100.0, 410.0, 520.0, 880.0],
        48_500.0,
    );
    reading(
        &mut input,
        &tam,
        up + 7 * DAY,
        [40_000.0, 200.0, 10.0, 5.0, 5.0],
        2_000_000.0,
    );
    // A reading after the report's time is not seen.
    reading(
        &mut input,
        &tam,
        AT + 3600,
        [90_000.0, 900.0, 10.0, 5.0, 5.0],
        2_000_000.0,
    );
    input.mentions = vec![("99".into(), 30_000), ("98".into(), 8_000), (id(1), 1)];

    let k = kpis(&c, &input, AT);
    let v = &k.videos[0];
    assert_eq!(v.cost, 600.0);
    assert_eq!(v.views, 250_000.0);
    assert_eq!(v.engagements, 10_910.0);
    assert_eq!(v.engagement_rate, Some(0.04364));
    assert_eq!(v.cpm, Some(2.4));
    assert_eq!(v.tier, Some("micro"));
    assert_eq!(v.tier_benchmark, Some((0.02, 0.05)));
    assert_eq!(v.views_24h, Some(20_000.0));
    assert_eq!(v.views_7d, Some(250_000.0));
    assert_eq!(v.views_30d, None, "not 30 days old at the report's time");
    let t = &k.videos[1];
    assert_eq!(t.cost, 1200.0, "the budget left after the priced video");
    assert_eq!(t.views, 40_000.0);
    assert_eq!(t.views_24h, None, "no reading that early");

    assert_eq!(k.cost, 1800.0);
    assert_eq!(k.views, 290_000.0);
    assert_eq!(k.engagements, 10_910.0 + 220.0);
    assert_eq!(k.cpm, Some(1800.0 / 290.0));
    assert_eq!(k.roas, Some(2400.0 / 1800.0));
    assert_eq!(k.mentions.videos, 2, "the sponsored video is not a mention");
    assert_eq!(k.mentions.views, 38_000.0);

    // Ranked by cost per engagement: Léa first, and worth renewing.
    assert_eq!(k.creators[0].creator, "lea.soinsnaturels");
    assert_eq!(k.creators[0].verdict, Verdict::Renew);
    // 0.55 % engagement for a mega creator is within "under 1 %" but dear per engagement.
    assert_eq!(k.creators[1].tier, Some("mega"));
    assert_eq!(k.creators[1].verdict, Verdict::Watch);
}

#[test]
fn under_the_tier_range_is_reconsidered_and_too_few_views_wait() {
    let c = campaign(Some(300.0), None, vec![video("lea", "1", None)]);
    let mut input = CampaignInput::default();
    reading(
        &mut input,
        &c.videos[0],
        AT - DAY,
        [50_000.0, 300.0, 0.0, 0.0, 0.0],
        5_000.0,
    );
    let k = kpis(&c, &input, AT);
    assert_eq!(k.creators[0].tier, Some("nano"));
    assert_eq!(k.creators[0].verdict, Verdict::Reconsider);
    let early = kpis(&c, &CampaignInput::default(), AT);
    assert_eq!(early.creators[0].verdict, Verdict::TooEarly);
    assert_eq!(early.views, 0.0);
    assert_eq!(early.cpm, None);
}

#[test]
fn videos_that_joined_share_the_budget_left_like_unpriced_ones() {
    let c = campaign(Some(1000.0), None, vec![video("lea", "1", Some(400.0))]);
    let joined = video("lea", "2", None);
    let mut input = CampaignInput {
        joined: vec![joined.clone()],
        ..Default::default()
    };
    reading(
        &mut input,
        &joined,
        AT - DAY,
        [10_000.0, 500.0, 0.0, 0.0, 0.0],
        20_000.0,
    );
    let k = kpis(&c, &input, AT);
    assert_eq!(k.videos.len(), 2);
    assert_eq!(k.videos[1].cost, 600.0);
    assert_eq!(k.videos[1].views, 10_000.0);
    assert_eq!(k.creators.len(), 1, "one creator, two videos");
    assert_eq!(k.creators[0].videos, 2);
}
