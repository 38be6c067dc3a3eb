//! Reads the dates and periods JQL accepts: `"2026-01-31"`, `"2026/01/31 12:30"`, `-5d`, `"4w 2d"`.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::ast::Moment;

/// Reads a date value, or `None` when it is in none of Jira's formats. Absolute dates are read
/// in UTC, the emulator's only time zone.
pub(super) fn parse_moment(text: &str) -> Option<Moment> {
    let text = text.trim();
    parse_period(text)
        .map(Moment::FromNow)
        .or_else(|| parse_absolute(text).map(Moment::At))
}

/// `[+-] [Nw] [Nd] [Nh] [Nm]`, with optional spaces between the parts, at least one part.
fn parse_period(text: &str) -> Option<SignedDuration> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut total = SignedDuration::ZERO;
    let mut digits = String::new();
    let mut parts = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' if digits.is_empty() => {}
            'w' | 'd' | 'h' | 'm' if !digits.is_empty() => {
                let count: i64 = digits.parse().ok()?;
                let unit: i64 = match c {
                    'w' => 7 * 86_400,
                    'd' => 86_400,
                    'h' => 3_600,
                    _ => 60,
                };
                total = total.checked_add(SignedDuration::from_secs(count.checked_mul(unit)?))?;
                digits.clear();
                parts += 1;
            }
            _ => return None,
        }
    }
    if parts == 0 || !digits.is_empty() {
        return None;
    }
    Some(if negative { -total } else { total })
}

/// `yyyy-MM-dd`, `yyyy/MM/dd`, each optionally followed by ` HH:mm`.
fn parse_absolute(text: &str) -> Option<Timestamp> {
    let (day, clock) = match text.split_once(' ') {
        Some((day, clock)) => (day, Some(clock.trim_start())),
        None => (text, None),
    };
    let separator = if day.contains('/') { '/' } else { '-' };
    let mut fields = day.split(separator);
    let year = number(fields.next()?, 4)?;
    let month = number(fields.next()?, 2)?;
    let day_of_month = number(fields.next()?, 2)?;
    if fields.next().is_some() {
        return None;
    }
    let date = Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day_of_month).ok()?,
    )
    .ok()?;
    let time = match clock {
        None => Time::midnight(),
        Some(clock) => {
            let (hour, minute) = clock.split_once(':')?;
            Time::new(
                i8::try_from(number(hour, 2)?).ok()?,
                i8::try_from(number(minute, 2)?).ok()?,
                0,
                0,
            )
            .ok()?
        }
    };
    date.to_datetime(time)
        .to_zoned(TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// A run of 1 to `max_digits` ASCII digits.
fn number(text: &str, max_digits: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Moment {
        Moment::At(text.parse().unwrap())
    }

    #[test]
    fn reads_relative_periods() {
        assert_eq!(
            parse_moment("-5m"),
            Some(Moment::FromNow(SignedDuration::from_mins(-5)))
        );
        assert_eq!(
            parse_moment("-1h"),
            Some(Moment::FromNow(SignedDuration::from_hours(-1)))
        );
        assert_eq!(
            parse_moment("-2d"),
            Some(Moment::FromNow(SignedDuration::from_hours(-48)))
        );
        assert_eq!(
            parse_moment("-1w"),
            Some(Moment::FromNow(SignedDuration::from_hours(-168)))
        );
        assert_eq!(
            parse_moment("3d"),
            Some(Moment::FromNow(SignedDuration::from_hours(72)))
        );
        assert_eq!(
            parse_moment("+1h"),
            Some(Moment::FromNow(SignedDuration::from_hours(1)))
        );
        assert_eq!(
            parse_moment("4w 2d"),
            Some(Moment::FromNow(SignedDuration::from_hours(30 * 24)))
        );
        assert_eq!(
            parse_moment("-1d 2h 30m"),
            Some(Moment::FromNow(-SignedDuration::from_mins(26 * 60 + 30)))
        );
    }

    #[test]
    fn reads_absolute_dates_in_utc() {
        assert_eq!(parse_moment("2026-01-31"), Some(at("2026-01-31T00:00:00Z")));
        assert_eq!(parse_moment("2026/01/31"), Some(at("2026-01-31T00:00:00Z")));
        assert_eq!(
            parse_moment("2026-01-31 12:30"),
            Some(at("2026-01-31T12:30:00Z"))
        );
        assert_eq!(
            parse_moment("2026/1/5 7:05"),
            Some(at("2026-01-05T07:05:00Z"))
        );
    }

    #[test]
    fn refuses_what_jira_refuses() {
        for bad in [
            "",
            "-",
            "5",
            "d",
            "-5x",
            "5d3",
            "yesterday",
            "2026-02-30",
            "2026-13-01",
            "2026-01",
            "2026-01-31 25:00",
            "2026-01-31 12",
            "2026-01-31T12:30",
            "99999999999999999999d",
            "2026-01/31",
            "20260-01-01",
        ] {
            assert_eq!(parse_moment(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn resolves_relative_to_now() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            parse_moment("-1h").unwrap().resolve(now),
            Some("2026-03-01T09:00:00Z".parse().unwrap())
        );
        assert_eq!(
            at("2020-01-01T00:00:00Z").resolve(now),
            Some("2020-01-01T00:00:00Z".parse().unwrap())
        );
    }
}
