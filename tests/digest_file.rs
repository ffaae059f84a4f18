#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The default `file` transport and the collection-health section: a digest lands once as an
//! `.eml` under `state_dir/outbox`, and failing entities are listed with why.

use trendwatch::config;
use trendwatch::digest;
use trendwatch::mail;
use trendwatch::model::{EntityId, Failure, FailureKind, TIKTOK};
use trendwatch::store::{EntityInfo, OutboxState, Store};

const AT: i64 = 1_795_420_800;

#[tokio::test]
async fn file_transport_writes_one_eml_and_health_lists_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("watchlist.toml"),
        "[tiktok]\nhashtags = [\"a\"]\n",
    )
    .unwrap();
    let path = dir.path().join("trendwatch.toml");
    std::fs::write(
        &path,
        format!(
            "watchlist = \"watchlist.toml\"\nstate_dir = \"{}\"\n\n[digest]\nlanguage = \"fr\"\nto = [\"a@example.org\"]\nfrom = \"trendwatch <t@example.org>\"\n",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let (cfg, _) = config::load(&path).unwrap();
    let store = Store::open(&cfg.state_dir).unwrap();
    let failing = EntityInfo {
        id: EntityId::creator(TIKTOK, "disparue"),
        first_seen: AT - 86_400,
        last_sample_at: None,
        last_success: Some(AT - 80_000),
        last_failure: Some(Failure {
            at: AT - 3600,
            kind: FailureKind::NotFound,
            detail: "HTTP 404 <b>gone</b>".into(),
        }),
        metrics: vec![],
    };
    let recovered = EntityInfo {
        id: EntityId::hashtag(TIKTOK, "revenue"),
        last_success: Some(AT - 60),
        ..failing.clone()
    };
    let d = digest::build(&[], &[failing, recovered], &store, &cfg, AT).unwrap();
    assert_eq!(d.health.len(), 1);
    let r = digest::render(&d, cfg.digest.language).unwrap();
    assert!(r.text.contains("Rien de nouveau"), "{}", r.text);
    assert!(
        r.subject
            .starts_with("trendwatch · rien de nouveau — semaine du"),
        "{}",
        r.subject
    );
    assert!(r.text.contains("État de la collecte") && r.text.contains("@disparue"));
    assert!(!r.text.contains("#revenue"));
    assert!(
        r.html.contains("&lt;b&gt;gone&lt;&#x2f;b&gt;"),
        "{}",
        r.html
    );

    let item = mail::queue(&store, &cfg, &r, AT).unwrap();
    let report = mail::flush(&store, &cfg, AT).await.unwrap();
    assert_eq!(report.sent, vec![item.id.clone()]);
    mail::flush_all(&store, &cfg, AT + 10).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(cfg.state_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    assert_eq!(std::fs::read(&files[0]).unwrap(), item.raw);
    assert!(matches!(
        store.outbox_get(&item.id).unwrap().unwrap().state,
        OutboxState::Sent { .. }
    ));
}
