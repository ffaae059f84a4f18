//! The loader's pure rules: positions, suggestions, schedules, the state directory, advice.

use super::*;

#[test]
fn byte_offsets_become_one_based_lines_and_character_columns() {
    let text = "a = 1\nbé = \"x\"\n";
    assert_eq!(line_col(text, 0), (1, 1));
    assert_eq!(line_col(text, 6), (2, 1));
    // "bé = " is 6 bytes but 5 characters: the value starts at column 6.
    assert_eq!(line_col(text, 12), (2, 6));
    assert_eq!(line_col(text, 10_000), (3, 1));
}

#[test]
fn unknown_keys_get_a_suggestion_when_one_is_close() {
    let m = explain_toml_error(
        "unknown field `schedul`, expected one of `schedule`, `concurrency`",
        None,
    );
    assert!(m.contains("did you mean `schedule`?"), "{m}");
    let m = explain_toml_error("unknown field `zzz`, expected `schedule`", None);
    assert!(!m.contains("did you mean"), "{m}");
}

#[test]
fn schedules_list_their_next_runs_in_the_zone() {
    let s = Schedule::parse("0 0 8 * * Mon").unwrap();
    let after = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let runs = s.next_runs(chrono_tz::Europe::Paris, after, 2);
    assert_eq!(runs[0].to_rfc3339(), "2026-11-30T08:00:00+01:00");
    assert_eq!(runs[1].to_rfc3339(), "2026-12-07T08:00:00+01:00");
    let prev = s
        .previous_run(
            chrono_tz::Europe::Paris,
            after,
            Duration::from_secs(8 * 86_400),
        )
        .unwrap();
    assert_eq!(prev.to_rfc3339(), "2026-11-23T08:00:00+01:00");
    assert!(
        Schedule::parse("0 */3 * * *").is_err(),
        "five fields lack seconds"
    );
}

#[test]
fn day_of_month_and_day_of_week_must_both_match_as_in_the_scheduler() {
    // `dom_and_dow(true)`, as tokio-cron-scheduler's time-zoned jobs: "the 1st, if a
    // Monday", not "every Monday and every 1st".
    let s = Schedule::parse("0 0 8 1 * Mon").unwrap();
    let after = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let runs = s.next_runs(chrono_tz::Europe::Paris, after, 1);
    assert_eq!(runs[0].to_rfc3339(), "2027-02-01T08:00:00+01:00");
}

#[test]
fn next_runs_are_strictly_after_the_given_time() {
    let s = Schedule::parse("0 0 */3 * * *").unwrap();
    let on_a_run = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let runs = s.next_runs(Tz::UTC, on_a_run, 3);
    let shown: Vec<String> = runs.iter().map(|t| t.format("%H:%M").to_string()).collect();
    assert_eq!(shown, vec!["09:00", "12:00", "15:00"]);
}

#[test]
fn state_directory_comes_from_systemd_or_the_default() {
    assert_eq!(
        state_directory_from_env(Some("/var/lib/trendwatch-a:/var/lib/other")),
        PathBuf::from("/var/lib/trendwatch-a")
    );
    assert_eq!(
        state_directory_from_env(Some("/var/lib/private/trendwatch")),
        PathBuf::from("/var/lib/private/trendwatch")
    );
    assert_eq!(
        state_directory_from_env(None),
        PathBuf::from("/var/lib/trendwatch")
    );
    assert_eq!(
        state_directory_from_env(Some("")),
        PathBuf::from("/var/lib/trendwatch")
    );
}

#[test]
fn serde_messages_read_as_advice() {
    assert_eq!(
        explain_toml_error("missing field `name`", None),
        "missing key `name` in this table"
    );
    let m = explain_toml_error("unknown field `password`, expected `host`", None);
    assert!(m.contains("password_credential"), "{m}");
    assert_eq!(
        explain_toml_error("invalid type: string \"4\", expected i64", None),
        "invalid type: string \"4\", expected an integer"
    );
}

#[test]
fn loopback_hosts_are_recognised() {
    assert!(is_loopback("localhost"));
    assert!(is_loopback("127.0.0.1"));
    assert!(is_loopback("127.1.2.3"), "all of 127.0.0.0/8 is loopback");
    assert!(is_loopback("::1"));
    assert!(is_loopback("[::1]"));
    assert!(!is_loopback("smtp.example.org"));
    assert!(!is_loopback("10.0.0.1"));
}
