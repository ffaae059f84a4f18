//! The TikTok parsers on small invented pages.

use super::*;

fn universal(scope: &str) -> String {
    format!(
        "<html><head><script id=\"x\">var a='</script>';</script></head><body>\
         <script id=\"__UNIVERSAL_DATA_FOR_REHYDRATION__\" type=\"application/json\">\
         {{\"__DEFAULT_SCOPE__\":{{\"webapp.i18n-translation\":{{\"a\":[1,2,{{\"b\":\"</x>\"}}]}},{scope}}}}}</script></body></html>"
    )
}

#[test]
fn script_is_found_by_id_only_inside_a_script_tag() {
    let html = r#"<div id="SIGI_STATE">no</div><script type="application/json" id="SIGI_STATE">{"a":1}</script>"#;
    assert_eq!(find_script(html, "SIGI_STATE"), Some(r#"{"a":1}"#));
    assert_eq!(find_script(html, "__NEXT_DATA__"), None);
    assert_eq!(find_script("<script id=\"A\">unterminated", "A"), None);
}

#[test]
fn stats_v2_wins_over_rounded_and_overflowed_stats() {
    let html = universal(
        r#""webapp.user-detail":{"statusCode":0,"userInfo":{"user":{"uniqueId":"Lea","secUid":"S1"},
        "stats":{"followerCount":68300,"followingCount":839,"heartCount":-977433948,"videoCount":12},
        "statsV2":{"followerCount":"68259","followingCount":"839","heartCount":"11907467940","videoCount":"12"}}}"#,
    );
    let page = parse_creator_page(&html, "lea").unwrap();
    assert_eq!(page.followers, Some(68_259));
    assert_eq!(page.likes, Some(11_907_467_940));
    assert_eq!(page.sec_uid.as_deref(), Some("S1"));
}

#[test]
fn a_profile_of_another_account_is_refused_whatever_the_case_of_the_handle() {
    let html = universal(
        r#""webapp.user-detail":{"statusCode":0,"userInfo":{"user":{"uniqueId":"quelquun.dautre"},
        "stats":{"followerCount":10,"followingCount":1,"heartCount":3,"videoCount":2}}}"#,
    );
    match parse_creator_page(&html, "lea") {
        Err(PageError::OtherEntity { asked, shown }) => {
            assert_eq!(
                (asked.as_str(), shown.as_str()),
                ("@lea", "@quelquun.dautre")
            );
        }
        other => panic!("{other:?}"),
    }
    let same = html.replace("quelquun.dautre", "LEA");
    assert_eq!(
        parse_creator_page(&same, "lea").unwrap().followers,
        Some(10)
    );
}

#[test]
fn negative_stats_without_v2_are_refused_not_stored() {
    let html = universal(
        r#""webapp.user-detail":{"statusCode":0,"userInfo":{"user":{},
        "stats":{"followerCount":10,"followingCount":1,"heartCount":-977433948,"heart":-977433948,"videoCount":2}}}"#,
    );
    let page = parse_creator_page(&html, "x").unwrap();
    assert_eq!(page.likes, None);
    assert_eq!(page.followers, Some(10));
    assert!(!page.metrics().iter().any(|(m, _)| m == "likes"));
}

#[test]
fn status_codes_decide_the_failure() {
    for (code, kind) in [
        (10221, FailureKind::NotFound),
        (10202, FailureKind::NotFound),
        (10000, FailureKind::Blocked),
        (10222, FailureKind::Private),
    ] {
        let html = universal(&format!(
            r#""webapp.user-detail":{{"statusCode":{code},"userInfo":{{}}}}"#
        ));
        let err = parse_creator_page(&html, "x").unwrap_err();
        assert_eq!(err.kind(), kind, "{code}");
    }
}

#[test]
fn missing_scope_is_an_empty_shell_and_names_the_path() {
    let err = parse_tag_page(&universal(r#""webapp.a-b":{}"#)).unwrap_err();
    match err {
        PageError::EmptyShell { path } => assert!(path.contains("webapp.challenge-detail")),
        other => panic!("{other:?}"),
    }
    let err = parse_creator_page(
        &universal(r#""webapp.user-detail":{"statusCode":0,"userInfo":{"user":{}}}"#),
        "x",
    )
    .unwrap_err();
    assert_eq!(
        err,
        PageError::UnknownShape {
            path: "/__DEFAULT_SCOPE__/webapp.user-detail/userInfo/stats in __UNIVERSAL_DATA_FOR_REHYDRATION__".into()
        }
    );
}

#[test]
fn inline_sigi_state_is_read() {
    let html = r#"<script>window['SIGI_STATE']={"UserPage":{"statusCode":0},"UserModule":{"users":{"Lea.X":{"uniqueId":"Lea.X","secUid":"S"}},"stats":{"Lea.X":{"followerCount":5,"followingCount":1,"heartCount":7,"videoCount":1}}}};window.x=1</script>"#;
    let page = parse_creator_page(html, "lea.x").unwrap();
    assert_eq!(page.generation, Generation::Sigi);
    assert_eq!(page.followers, Some(5));
}

#[test]
fn hostile_names_and_captions_never_enter_the_store() {
    let long = "a".repeat(5000);
    let item = serde_json::json!({
        "id": "7441618513669655864",
        "author": {"uniqueId": ".."},
        "desc": "voici\u{1b}[31m rouge\r\nbcc: x\u{202e}txet",
        "challenges": [
            {"title": "ok_tag"}, {"title": "bell\u{7}"}, {"title": "cr\r\nbcc: evil"},
            {"title": "rtl\u{202e}gpj"}, {"title": "zero\u{200b}width"}, {"title": long},
            {"title": "."}, {"title": "fine\u{301}"}
        ]
    });
    let v = parse_item(&item).unwrap();
    // NFC composes the accent.
    assert_eq!(v.hashtags, vec!["ok_tag", "finé"]);
    assert_eq!(v.author, None);
    assert_eq!(v.description, "voici [31m rouge bcc: xtxet");
}

#[test]
fn item_hashtags_are_the_normalised_union() {
    let item: Value = serde_json::from_str(
        r##"{"id":"7441618513669655864","createTime":"1732636833","author":{"uniqueId":"Lea"},
        "desc":"x #SkinCare","stats":{"playCount":700,"collectCount":"1"},"statsV2":{"playCount":"732"},
        "challenges":[{"title":"SkinCare"},{"title":"BienÊtre"}],
        "textExtra":[{"type":1,"hashtagName":"skincare"},{"type":0,"hashtagName":"","userUniqueId":"bob"},{"type":1,"hashtagName":"Naturel"}]}"##,
    )
    .unwrap();
    let v = parse_item(&item).unwrap();
    assert_eq!(v.hashtags, vec!["skincare", "bienêtre", "naturel"]);
    assert_eq!(v.plays, 732);
    assert_eq!(v.saves, 1);
    assert_eq!(v.created_at, 1_732_636_833);
    assert_eq!(v.author.as_deref(), Some("lea"));
}

#[test]
fn waf_challenge_is_solved() {
    // A challenge made here: prefix "trendwatch-test", answer 4217.
    let engine = base64::engine::general_purpose::STANDARD;
    let prefix = b"trendwatch-test";
    let mut h = Sha256::new();
    h.update(prefix);
    h.update(b"4217");
    let c = engine.encode(h.finalize());
    let cs_json = format!(
        r#"{{"v":{{"a":"{}","b":1710296246,"c":"{c}"}},"s":"sig"}}"#,
        engine.encode(prefix)
    );
    let html = format!(
        r#"<body> Please wait... <p id="wci" class="_wafchallengeid"></p> <p id="cs" class="{}"></p></body>"#,
        engine.encode(&cs_json).trim_end_matches('=')
    );
    let wall = WafChallenge::find(&html).unwrap();
    let cookies = wall.solve().unwrap();
    assert_eq!(cookies[0].0, "_wafchallengeid");
    let answer = String::from_utf8(engine.decode(&cookies[0].1).unwrap()).unwrap();
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["d"], engine.encode("4217"));
    assert_eq!(v["s"], "sig");
    assert!(matches!(
        parse_creator_page(&html, "x"),
        Err(PageError::BotWall(_))
    ));
}

#[test]
fn unsolvable_challenge_gives_none() {
    let engine = base64::engine::general_purpose::STANDARD;
    let cs = engine.encode(r#"{"v":{"a":"AAAA","c":"AAAA"},"s":""}"#);
    let w = WafChallenge {
        cookie_name: "w".into(),
        challenge: cs,
        extra_cookie: None,
    };
    assert_eq!(w.solve(), None);
}
