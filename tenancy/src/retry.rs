//! How transient failures are retried: how many times, and the pauses
//! between (exponential, with jitter, capped).

use std::time::Duration;

/// A retry policy for work the database refused for a reason that may not
/// hold next time: a serialization failure or deadlock (SQLSTATE `40001`,
/// `40P01`, MySQL's deadlock victim), SQLite's busy or locked database, a
/// connection lost before the work committed.
///
/// [`Retry::transaction`] runs a closure in a transaction and runs it again
/// in a new one on such a failure; the library's own registry writes and
/// the migration runner's deadlock victims follow the policy given to
/// [`TenancyBuilder::retry`](crate::TenancyBuilder::retry). Nothing else is
/// retried: an error the work itself caused (a constraint, a syntax error)
/// is returned at once, and so is a connection lost *during* `COMMIT`,
/// whose outcome is unknown: running non-idempotent work again could do it
/// twice.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tenancy::Retry;
/// let retry = Retry::default(); // 8 retries, 10 ms doubling up to 1 s
/// assert_eq!(retry.retries, 8);
/// let patient = Retry::default().retries(10).pauses(Duration::from_millis(50), Duration::from_secs(5));
/// assert!(patient.pause(3) >= Duration::from_millis(200)); // 50 ms doubled twice, plus jitter
/// assert_eq!(Retry::NEVER.retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retry {
    /// Runs after the first (0: never again).
    pub retries: u32,
    /// The pause before the first retry; each next one doubles it.
    pub first_pause: Duration,
    /// The longest pause (before jitter).
    pub max_pause: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 8,
            first_pause: Duration::from_millis(10),
            max_pause: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// Never retried.
    pub const NEVER: Retry = Retry {
        retries: 0,
        first_pause: Duration::ZERO,
        max_pause: Duration::ZERO,
    };

    /// Sets [`Retry::retries`].
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets [`Retry::first_pause`] and [`Retry::max_pause`].
    pub fn pauses(mut self, first: Duration, max: Duration) -> Self {
        self.first_pause = first;
        self.max_pause = max.max(first);
        self
    }

    /// The pause before retry `attempt` (from 1): `first_pause` doubled
    /// `attempt - 1` times, at most `max_pause`, plus up to as much again
    /// of jitter, so the victims of one deadlock do not meet again.
    pub fn pause(&self, attempt: u32) -> Duration {
        let doubling = 1u32 << attempt.saturating_sub(1).min(20);
        let base = self
            .first_pause
            .saturating_mul(doubling)
            .min(self.max_pause);
        let spread = Duration::try_from_secs_f64(base.as_secs_f64() * jitter()).unwrap_or_default();
        base.saturating_add(spread)
    }

    /// Sleeps [`Retry::pause`]`(attempt)`.
    pub(crate) async fn wait(&self, attempt: u32) {
        tokio::time::sleep(self.pause(attempt)).await;
    }
}

/// A fraction in `[0, 1)` that differs from call to call (the clock's
/// nanoseconds, mixed): enough to spread retries, no generator needed.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let mixed = nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    mixed as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_to_the_cap_with_bounded_jitter() {
        let retry = Retry::default().pauses(Duration::from_millis(10), Duration::from_millis(100));
        for (attempt, base) in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (40, 100)] {
            let base = Duration::from_millis(base);
            for _ in 0..50 {
                let pause = retry.pause(attempt);
                assert!(pause >= base && pause < base * 2, "{attempt}: {pause:?}");
            }
        }
        assert_eq!(Retry::NEVER.pause(1), Duration::ZERO);
        // A cap below the first pause is raised to it.
        let odd = Retry::default().pauses(Duration::from_millis(50), Duration::from_millis(1));
        assert_eq!(odd.max_pause, Duration::from_millis(50));
    }

    #[test]
    fn jitter_spreads() {
        let seen: std::collections::BTreeSet<u64> = (0..200)
            .map(|_| {
                std::thread::sleep(Duration::from_micros(3));
                (jitter() * 10.0) as u64
            })
            .collect();
        assert!(seen.len() >= 5, "{seen:?}");
        assert!(seen.iter().all(|d| *d < 10));
    }
}
