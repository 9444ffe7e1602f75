//! Deterministic record keys: each part of a target gets the same TID on
//! every attempt, so that "was it posted?" is one `getRecord` away.

use atrium_api::types::LimitedU32;
use atrium_api::types::string::Tid;
use chrono::{DateTime, Utc};

/// The record key of part `index` of `post_id` on `account`: a valid TID
/// whose time part is `first_claimed` plus `index` microseconds (so that the
/// parts of a thread differ and sort in order, and the app sees a plausible
/// time), and whose 10-bit clock id comes from a hash of post, account and
/// part.
pub fn record_key(
    post_id: &str,
    account: &str,
    index: usize,
    first_claimed: DateTime<Utc>,
) -> String {
    let time = first_claimed + chrono::Duration::microseconds(index as i64);
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
    fn time_part_is_first_claimed_plus_index() {
        let t0 = at("2026-12-01T09:00:00.123456Z");
        let k0 = record_key("p", "bsky", 0, t0);
        let k3 = record_key("p", "bsky", 3, t0);
        assert_eq!(tid_time(&k0), Some(t0));
        assert_eq!(tid_time(&k3), Some(t0 + chrono::Duration::microseconds(3)));
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
        // Another post or account claimed at the same microsecond: the
        // clock id almost always tells them apart.
        let others: std::collections::HashSet<_> = (0..20)
            .map(|n| record_key(&format!("post-{n}"), "bsky", 0, t0))
            .collect();
        assert!(others.len() >= 19);
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
