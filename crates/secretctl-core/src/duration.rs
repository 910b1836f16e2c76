//! Durations and expiry dates as users type them: `90s`, `15m`, `8h`, `30d`, `2w`, `1h30m`, and
//! RFC 3339 dates or plain `YYYY-MM-DD` dates for expiry.

use jiff::Timestamp;
use std::time::Duration;

/// A duration or date that could not be parsed; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} '{input}': {expected}")]
pub struct ParseError {
    what: &'static str,
    /// As [`shown`] returns it.
    input: String,
    expected: &'static str,
}

/// The input as an error shows it: at most 64 characters, escaped, so that a hostile argument
/// cannot add lines or escape sequences to the one error line.
fn shown(input: &str) -> String {
    input
        .chars()
        .take(64)
        .flat_map(char::escape_debug)
        .collect()
}

const DURATION_FORMS: &str = "use a number with a unit s, m, h, d or w, such as 30s, 15m, 8h, 30d";

/// Parses `1h30m`-style durations. Each part is a whole number followed by `s`, `m`, `h`, `d`
/// (24 h) or `w` (7 d); at least one part; no sign; no overflow.
pub fn parse_duration(input: &str) -> Result<Duration, ParseError> {
    let err = || ParseError {
        what: "duration",
        input: shown(input),
        expected: DURATION_FORMS,
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut parts = 0;
    for c in input.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(err()),
        };
        let n: u64 = digits.parse().map_err(|_| err())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        parts += 1;
    }
    if !digits.is_empty() || parts == 0 {
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

/// Parses an expiry: a duration from `now` (`30d`), an RFC 3339 timestamp, or a `YYYY-MM-DD`
/// date (midnight UTC).
pub fn parse_expiry(input: &str, now: Timestamp) -> Result<Timestamp, ParseError> {
    if let Ok(d) = parse_duration(input) {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        return now
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .map_err(|_| ParseError {
                what: "expiry",
                input: shown(input),
                expected: "the date is out of range",
            });
    }
    if let Ok(ts) = input.parse::<Timestamp>() {
        return Ok(ts);
    }
    // A date and time without an offset is read as UTC rather than losing its time part.
    if input.contains(['T', ' '])
        && let Ok(dt) = input.parse::<jiff::civil::DateTime>()
        && let Ok(ts) = jiff::tz::TimeZone::UTC.to_timestamp(dt)
    {
        return Ok(ts);
    }
    if let Ok(date) = input.parse::<jiff::civil::Date>()
        && let Ok(ts) =
            jiff::tz::TimeZone::UTC.to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
    {
        return Ok(ts);
    }
    Err(ParseError {
        what: "expiry",
        input: shown(input),
        expected: "use a duration such as 30d, a date such as 2027-01-31, or an RFC 3339 time",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("2w").unwrap(),
            Duration::from_secs(1_209_600)
        );
        for bad in ["", "5", "m", "5x", "-5s", "1.5h", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn expiries() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            parse_expiry("1d", now).unwrap().to_string(),
            "2026-01-02T00:00:00Z"
        );
        assert_eq!(
            parse_expiry("2027-03-04", now).unwrap().to_string(),
            "2027-03-04T00:00:00Z"
        );
        assert_eq!(
            parse_expiry("2027-01-31T12:30:00", now)
                .unwrap()
                .to_string(),
            "2027-01-31T12:30:00Z"
        );
        assert!(parse_expiry("tomorrow", now).is_err());
    }
}
