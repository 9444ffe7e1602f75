//! Times of posts: `at` values with zones, and how they are shown.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A parsed `at`: the instant, plus a warning when the local time was ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAt {
    pub instant: DateTime<Utc>,
    pub warning: Option<String>,
}

const LOCAL_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
];
const OFFSET_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M%:z",
    "%Y-%m-%d %H:%M%:z",
    "%Y-%m-%dT%H:%MZ",
    "%Y-%m-%d %H:%MZ",
];

/// Parses an `at` value: RFC 3339 with an offset, `YYYY-MM-DD HH:MM` in
/// `default_tz`, or `YYYY-MM-DD HH:MM Area/City`.
pub fn parse_at(input: &str, default_tz: Tz) -> Result<ParsedAt, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("`at` is empty".into());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(exact(t));
    }
    for f in OFFSET_FORMATS {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(
            &s.replace('Z', "+00:00"),
            &f.replace('Z', "%:z"),
        ) {
            return Ok(exact(t));
        }
    }
    if let Some(ndt) = parse_local(s) {
        return resolve_local(ndt, default_tz);
    }
    // `YYYY-MM-DD HH:MM Area/City`
    if let Some((dt, zone)) = s.rsplit_once(char::is_whitespace)
        && let Some(ndt) = parse_local(dt.trim())
    {
        let tz = crate::config::parse_timezone(zone)?;
        return resolve_local(ndt, tz);
    }
    Err(format!(
        "`{s}` is not a time; write `YYYY-MM-DD HH:MM` (project timezone), `YYYY-MM-DD HH:MM Area/City`, or RFC 3339 such as `2026-12-01T09:00:00+01:00`"
    ))
}

fn exact(t: DateTime<FixedOffset>) -> ParsedAt {
    ParsedAt {
        instant: t.with_timezone(&Utc),
        warning: None,
    }
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// Turns a wall-clock time in `tz` into an instant: a time skipped by a DST
/// change is an error, a repeated one is taken as its first occurrence.
pub fn resolve_local(ndt: NaiveDateTime, tz: Tz) -> Result<ParsedAt, String> {
    match tz.from_local_datetime(&ndt) {
        LocalResult::Single(t) => Ok(ParsedAt {
            instant: t.with_timezone(&Utc),
            warning: None,
        }),
        LocalResult::Ambiguous(a, b) => {
            let (first, second) = if a <= b { (a, b) } else { (b, a) };
            Ok(ParsedAt {
                instant: first.with_timezone(&Utc),
                warning: Some(format!(
                    "{} happens twice in {} (clocks go back); taking the first, {} ({}); write an offset such as `{}` to choose the second",
                    ndt.format("%Y-%m-%d %H:%M"),
                    tz.name(),
                    first.format("%H:%M %Z"),
                    first.format("%:z"),
                    second.format("%Y-%m-%dT%H:%M:%S%:z"),
                )),
            })
        }
        LocalResult::None => {
            // Find the first valid minute after the gap to suggest it.
            let mut later = ndt;
            let mut suggestion = String::new();
            for _ in 0..(4 * 60) {
                later += chrono::Duration::minutes(1);
                if let LocalResult::Single(t) = tz.from_local_datetime(&later) {
                    suggestion = format!(
                        "; the clock jumps forward, the next valid time is {}",
                        t.format("%Y-%m-%d %H:%M")
                    );
                    break;
                }
            }
            Err(format!(
                "{} does not exist in {} (a daylight saving time gap){suggestion}",
                ndt.format("%Y-%m-%d %H:%M"),
                tz.name()
            ))
        }
    }
}

/// Formats an instant as local time in `tz`, as the files write it.
pub fn format_local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// `t` in `tz` with the zone's abbreviation: `2026-12-01 18:30 CET`.
pub fn format_zoned(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// `t` in `tz` as RFC 3339 with its offset: `2026-12-01T18:30:00+01:00`.
pub fn rfc3339_in(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A relative description of `t` seen from `now`: "in 3h", "5m ago".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let (abs, future) = (secs.unsigned_abs(), secs >= 0);
    let span = if abs < 60 {
        return if future {
            "now".into()
        } else {
            "just now".into()
        };
    } else if abs < 3600 {
        format!("{}m", abs / 60)
    } else if abs < 86_400 * 2 {
        let h = abs / 3600;
        let m = (abs % 3600) / 60;
        if m == 0 || h >= 10 {
            format!("{h}h")
        } else {
            format!("{h}h {m}m")
        }
    } else {
        format!("{}d", abs / 86_400)
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    #[test]
    fn accepts_the_three_forms() {
        let a = parse_at("2026-12-01T09:00:00+01:00", Tz::UTC).unwrap();
        let b = parse_at("2026-12-01 09:00", Berlin).unwrap();
        let c = parse_at("2026-12-01 03:00 America/New_York", Berlin).unwrap();
        assert_eq!(a.instant, b.instant);
        assert_eq!(a.instant, c.instant);
        assert_eq!(a.instant.to_rfc3339(), "2026-12-01T08:00:00+00:00");
    }

    #[test]
    fn dst_gap_is_an_error_and_overlap_a_warning() {
        let e = parse_at("2026-03-29 02:30", Berlin).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        assert!(e.contains("03:00"), "{e}");
        let p = parse_at("2026-10-25 02:30", Berlin).unwrap();
        assert_eq!(p.instant.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert!(p.warning.unwrap().contains("twice"));
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(relative(now + chrono::Duration::hours(3), now), "in 3h");
        assert_eq!(relative(now - chrono::Duration::minutes(5), now), "5m ago");
        assert_eq!(relative(now + chrono::Duration::days(3), now), "in 3d");
    }
}
