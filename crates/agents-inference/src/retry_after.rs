//! The `Retry-After` header (RFC 9110 §10.2.3): a number of seconds, or an HTTP date.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `value` asks to wait, seen at `now`; `None` when it is neither form. A date in
/// the past asks for no wait.
pub(crate) fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = http_date(value)?;
    let at = UNIX_EPOCH.checked_add(Duration::from_secs(at))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The seconds since the Unix epoch of an HTTP date in any of its three forms:
/// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850)
/// and `Sun Nov  6 08:49:37 1994` (asctime). The day name is not checked.
fn http_date(value: &str) -> Option<u64> {
    let words: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match words.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        [_, date, time, "GMT"] => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            // RFC 850's two-digit years: read as the nearest past century (RFC 9110 says a
            // year more than 50 years ahead is in the past).
            let short: u64 = number(year)?;
            let year = if short >= 70 { 1900 + short } else { 2000 + short };
            return seconds(number(day)?, month, year, time);
        }
        [_, month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    if year.len() != 4 {
        return None;
    }
    seconds(number(day)?, month, number(year)?, time)
}

/// The seconds since the epoch of `day month year` at `time` (`hh:mm:ss`), in UTC.
fn seconds(day: u64, month: &str, year: u64, time: &str) -> Option<u64> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut clock = time.split(':');
    let (hours, minutes, secs) = (clock.next()?, clock.next()?, clock.next()?);
    if clock.next().is_some() || [hours, minutes, secs].iter().any(|part| part.len() != 2) {
        return None;
    }
    let (hours, minutes, secs) = (number(hours)?, number(minutes)?, number(secs)?);
    if !(1..=31).contains(&day) || year < 1970 || hours > 23 || minutes > 59 || secs > 60 {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    Some(days * 86_400 + hours * 3600 + minutes * 60 + secs)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (`year` >= 1970,
/// `month` 1–12): whole years, then whole months, then days.
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    // Leap days in the years 1970..year: multiples of 4, less of 100, plus of 400.
    let before = |y: u64| y / 4 - y / 100 + y / 400;
    let leap_days = before(year - 1) - before(1969);
    let mut days = (year - 1970) * 365 + leap_days;
    const MONTH_DAYS: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    days += MONTH_DAYS.iter().take((month - 1) as usize).sum::<u64>();
    if month > 2 && leap(year) {
        days += 1;
    }
    days + day - 1
}

/// A number of at most 4 ASCII digits.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn delta_seconds() {
        assert_eq!(parse("20", at(0)), Some(Duration::from_secs(20)));
        assert_eq!(parse(" 0 ", at(0)), Some(Duration::ZERO));
        assert_eq!(parse("99999999999999999999999", at(0)), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(parse("-1", at(0)), None);
        assert_eq!(parse("1.5", at(0)), None);
        assert_eq!(parse("", at(0)), None);
        assert_eq!(parse("soon", at(0)), None);
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        // 784111777 is 1994-11-06 08:49:37 UTC.
        let now = at(784_111_777 - 30);
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse(date, now), Some(Duration::from_secs(30)), "{date}");
        }
        // Past dates ask for no wait.
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT", at(784_111_777 + 5)),
            Some(Duration::ZERO)
        );
        // 951782400 is 2000-02-29 00:00:00 UTC, 1709251200 is 2024-03-01.
        assert_eq!(http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(http_date("Fri, 01 Mar 2024 00:00:00 GMT"), Some(1_709_251_200));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn malformed_dates_are_rejected() {
        for date in [
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1960 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 +8:49:37 GMT",
        ] {
            assert_eq!(parse(date, at(0)), None, "{date}");
        }
    }
}
