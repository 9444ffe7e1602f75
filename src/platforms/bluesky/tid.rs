//! Deterministic record keys: each part of a target gets the same TID on
//! every attempt and on every machine with the repository, so that "was it
//! posted?" is one `getRecord` away, even for a post another machine sent.

use atrium_api::types::LimitedU32;
use atrium_api::types::string::Tid;
use chrono::{DateTime, Utc};

/// Sub-second steps (of 16 µs) that spread posts sharing a base time.
const SPREAD_STEPS: u64 = 62_500;

/// The time part of a target's record keys. The post's scheduled time where
/// it has one: every machine with the repository knows it, and a due post
/// is sent within `catch_up` of it, so the key is plausible. A post without
/// one (`social post`, a queue slot, which each machine computes on its
/// own) has no time that all machines share; the start (UTC) of the day it
/// was first claimed on is the closest: two machines publishing it on the
/// same day find each other's records, and the key is never more than a day
/// off the post. (A hash-only time would be decades off; the claim time
/// itself differs between machines and lets both publish.)
pub fn key_time(scheduled: Option<DateTime<Utc>>, first_claimed: DateTime<Utc>) -> DateTime<Utc> {
    scheduled.unwrap_or_else(|| {
        first_claimed
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .unwrap_or(first_claimed)
    })
}

/// The record key of part `index` of `post_id` on `account`: a valid TID
/// whose time part is `base` (see [`key_time`]), plus a sub-second offset
/// from a hash of post and account (so that posts scheduled for the same
/// minute do not share a time), plus `index` microseconds (so that the
/// parts of a thread differ and sort in order); its 10-bit clock id comes
/// from a hash of post, account and part.
pub fn record_key(post_id: &str, account: &str, index: usize, base: DateTime<Utc>) -> String {
    let spread =
        xxhash_rust::xxh3::xxh3_64(format!("{post_id}\n{account}").as_bytes()) % SPREAD_STEPS * 16;
    let time = base + chrono::Duration::microseconds(spread as i64 + index as i64);
    // TIDs count microseconds from the epoch; nothing here is older.
    let time = time.max(DateTime::UNIX_EPOCH);
    Tid::from_datetime(clock_id(post_id, account, index), time)
        .as_str()
        .to_string()
}

/// A stable 10-bit clock id for one part (xxh3 is fixed across versions).
fn clock_id(post_id: &str, account: &str, index: usize) -> LimitedU32<1023> {
    let h = xxhash_rust::xxh3::xxh3_64(format!("{post_id}\n{account}\n{index}").as_bytes());
    let id = (h & 0x3FF) as u32;
    LimitedU32::try_from(id).unwrap_or(LimitedU32::MIN)
}

/// The time part of a TID, for tests and messages.
#[cfg(test)]
pub fn tid_time(tid: &str) -> Option<DateTime<Utc>> {
    const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    if tid.len() != 13 {
        return None;
    }
    let mut v: u64 = 0;
    for c in tid.bytes() {
        let d = ALPHABET.iter().position(|&a| a == c)? as u64;
        v = (v << 5) | d;
    }
    DateTime::from_timestamp_micros((v >> 10) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn valid_tid_shape() {
        let t0 = at("2026-12-01T09:00:00.123456Z");
        for i in 0..50 {
            let k = record_key("2026-12-01-launch", "bsky", i, t0);
            assert_eq!(k.len(), 13, "{k}");
            assert!(
                k.chars()
                    .all(|c| "234567abcdefghijklmnopqrstuvwxyz".contains(c))
            );
            assert!("234567abcdefghij".contains(k.chars().next().unwrap()));
            // atrium's own validation (the regex of the TID spec).
            Tid::new(k.clone()).unwrap();
        }
    }

    #[test]
    fn time_part_is_the_base_within_a_second_plus_index() {
        let t0 = at("2026-12-01T09:00:00Z");
        let k0 = record_key("p", "bsky", 0, t0);
        let k3 = record_key("p", "bsky", 3, t0);
        let s0 = tid_time(&k0).unwrap();
        assert!(s0 >= t0 && s0 < t0 + chrono::Duration::seconds(1), "{s0}");
        assert_eq!(tid_time(&k3), Some(s0 + chrono::Duration::microseconds(3)));
    }

    #[test]
    fn key_time_is_the_schedule_else_the_claim_day() {
        let at9 = at("2026-12-01T09:00:00Z");
        let claimed = at("2026-12-01T17:42:11.5Z");
        assert_eq!(key_time(Some(at9), claimed), at9);
        assert_eq!(key_time(None, claimed), at("2026-12-01T00:00:00Z"));
        // Two machines that claimed a scheduled post at different moments
        // (and one of them days later) compute the same keys.
        let a = record_key("p", "bsky", 1, key_time(Some(at9), claimed));
        let b = record_key(
            "p",
            "bsky",
            1,
            key_time(Some(at9), at("2026-12-03T08:00:00Z")),
        );
        assert_eq!(a, b);
        // Without a schedule: the same on the same day.
        let c = record_key("p", "bsky", 0, key_time(None, at("2026-12-01T01:00:00Z")));
        let d = record_key("p", "bsky", 0, key_time(None, at("2026-12-01T23:00:00Z")));
        assert_eq!(c, d);
    }

    #[test]
    fn posts_scheduled_for_one_minute_get_distinct_keys() {
        let t0 = at("2026-12-01T09:00:00Z");
        let keys: std::collections::HashSet<_> = (0..500)
            .flat_map(|n| (0..3).map(move |i| record_key(&format!("post-{n}"), "bsky", i, t0)))
            .collect();
        assert_eq!(keys.len(), 1500);
    }

    #[test]
    fn deterministic_and_distinct() {
        let t0 = at("2026-12-01T09:00:00Z");
        assert_eq!(
            record_key("p", "bsky", 1, t0),
            record_key("p", "bsky", 1, t0)
        );
        assert_ne!(
            record_key("p", "bsky", 0, t0),
            record_key("p", "bsky", 1, t0)
        );
        // Another post or account with the same base time: the time's
        // spread and the clock id tell them apart.
        let others: std::collections::HashSet<_> = (0..20)
            .map(|n| record_key(&format!("post-{n}"), "bsky", 0, t0))
            .collect();
        assert_eq!(others.len(), 20);
    }

    #[test]
    fn sorts_by_time_then_part() {
        let t0 = at("2026-12-01T09:00:00Z");
        let t1 = at("2026-12-01T09:00:01Z");
        let a = record_key("zzz", "bsky", 0, t0);
        let b = record_key("aaa", "bsky", 0, t1);
        assert!(a < b, "{a} < {b}");
        let parts: Vec<_> = (0..10).map(|i| record_key("p", "bsky", i, t0)).collect();
        let mut sorted = parts.clone();
        sorted.sort();
        assert_eq!(parts, sorted);
        // Years apart too (lexicographic order = numeric order).
        let old = record_key("p", "bsky", 0, at("2024-01-01T00:00:00Z"));
        let new = record_key("p", "bsky", 0, at("2031-01-01T00:00:00Z"));
        assert!(old < new);
    }
}
