//! Due times: queues and their weekly slots.

use crate::config::Queue;
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use std::collections::{HashMap, HashSet};

/// Slot instants of `q` at or after `from`, in order. Slots that fall into a
/// DST gap are skipped; a repeated local time takes its first occurrence.
pub fn slots_from(q: &Queue, from: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    let start: NaiveDate = from.with_timezone(&q.timezone).date_naive();
    let empty = q.slots.iter().all(Vec::is_empty);
    // Ten years of days bounds the walk for any queue with at least one slot.
    (0..3660i64)
        .take_while(move |_| !empty)
        .filter_map(move |d| start.checked_add_signed(Duration::days(d)))
        .flat_map(move |day| {
            let idx = day.weekday().num_days_from_monday() as usize;
            q.slots[idx].iter().filter_map(move |t| {
                match q.timezone.from_local_datetime(&day.and_time(*t)) {
                    LocalResult::Single(x) => Some(x.with_timezone(&Utc)),
                    LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
                    LocalResult::None => None,
                }
            })
        })
        .filter(move |t| *t >= from)
}

/// Whether `t` is one of `q`'s slots.
pub fn is_slot(q: &Queue, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&q.timezone);
    let idx = local.weekday().num_days_from_monday() as usize;
    let time = local.time();
    q.slots[idx].contains(&time) && slots_from(q, t).next() == Some(t)
}

/// A post waiting in a queue, in queue order.
#[derive(Clone, Debug)]
pub struct Waiting {
    pub id: String,
    /// The slot it holds from an earlier sync.
    pub slot: Option<DateTime<Utc>>,
}

/// Gives each waiting post a slot: a post keeps the slot it holds while that
/// is still a slot of the queue and not missed by more than `grace`; the rest
/// take the next free slots from `now`, in queue order. Deterministic: the
/// same posts, held slots and time give the same answer.
pub fn assign(
    q: &Queue,
    waiting: &[Waiting],
    now: DateTime<Utc>,
    grace: Duration,
) -> HashMap<String, DateTime<Utc>> {
    let mut out = HashMap::new();
    let mut taken = HashSet::new();
    for w in waiting {
        if let Some(t) = w.slot
            && t >= now - grace
            && is_slot(q, t)
            && taken.insert(t)
        {
            out.insert(w.id.clone(), t);
        }
    }
    let mut free = slots_from(q, now).filter(|t| !taken.contains(t));
    for w in waiting {
        if out.contains_key(&w.id) {
            continue;
        }
        match free.next() {
            Some(t) => {
                out.insert(w.id.clone(), t);
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;
    use chrono_tz::Tz;

    fn queue(tz: Tz, mon: &[&str], wed: &[&str]) -> Queue {
        let mut slots: [Vec<NaiveTime>; 7] = Default::default();
        slots[0] = mon
            .iter()
            .map(|s| NaiveTime::parse_from_str(s, "%H:%M").unwrap())
            .collect();
        slots[2] = wed
            .iter()
            .map(|s| NaiveTime::parse_from_str(s, "%H:%M").unwrap())
            .collect();
        Queue {
            name: "q".into(),
            accounts: vec![],
            timezone: tz,
            paused: false,
            slots,
        }
    }

    #[test]
    fn slots_follow_the_queue_timezone() {
        let q = queue(
            chrono_tz::America::New_York,
            &["09:00", "15:00"],
            &["12:30"],
        );
        // Tuesday 2026-12-01 12:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let s: Vec<_> = slots_from(&q, now)
            .take(3)
            .map(|t| t.to_rfc3339())
            .collect();
        assert_eq!(
            s,
            [
                "2026-12-02T17:30:00+00:00",
                "2026-12-07T14:00:00+00:00",
                "2026-12-07T20:00:00+00:00"
            ]
        );
    }

    #[test]
    fn assignment_is_stable_when_posts_are_added() {
        let q = queue(Tz::UTC, &["09:00"], &["09:00"]);
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let w = |id: &str, slot: Option<DateTime<Utc>>| Waiting {
            id: id.into(),
            slot,
        };
        let first = assign(&q, &[w("a", None), w("b", None)], now, Duration::hours(1));
        let a = first["a"];
        let b = first["b"];
        let second = assign(
            &q,
            &[w("a", Some(a)), w("b", Some(b)), w("c", None)],
            now,
            Duration::hours(1),
        );
        assert_eq!(second["a"], first["a"]);
        assert_eq!(second["b"], first["b"]);
        assert!(second["c"] > second["b"]);
    }
}
