//! How many tenants a run over many (migrations, jobs) works on at a time
//! when the caller did not say: found while the run goes, from the
//! throughput the server gives; and the loop that keeps that many going.
//!
//! Where a migrate-all stops scaling depends on the server (its cores, how
//! fast it commits, what else it serves), not on the client's pool: on the
//! project's 2-core machine two tenants at a time migrate as fast as four
//! or eight. So the run starts at two, measures tenants finished per second
//! over a window, doubles while a doubling buys at least a tenth more, and
//! settles on the best level seen as soon as it does not (never above the
//! ceiling: half the shared pool by default).

use std::{
    future::Future,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream::FuturesUnordered};

/// A doubling must buy this much more throughput to be kept.
const GAIN: f64 = 1.1;

/// The level a run starts at.
const START: usize = 2;

/// Chooses the concurrency of a run over many tenants (a hill climb that
/// settles once).
#[derive(Debug)]
pub(crate) struct Pace {
    limit: usize,
    max: usize,
    settled: bool,
    /// The best level measured so far and its tenants per second.
    best: Option<(usize, f64)>,
    finished: usize,
    since: Instant,
}

impl Pace {
    /// A fixed level: never changes.
    pub(crate) fn fixed(limit: usize) -> Self {
        let limit = limit.max(1);
        Pace {
            limit,
            max: limit,
            settled: true,
            best: None,
            finished: 0,
            since: Instant::now(),
        }
    }

    /// Chosen while the run goes, at most `max`.
    pub(crate) fn adaptive(max: usize) -> Self {
        let max = max.max(1);
        Pace {
            limit: START.min(max),
            max,
            settled: max == 1,
            best: None,
            finished: 0,
            since: Instant::now(),
        }
    }

    /// Tenants to run at a time now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Tenants finished per window at the current level: enough to even
    /// out one slow tenant, few enough to settle early in a run.
    fn window(&self) -> usize {
        (self.limit * 4).max(8)
    }

    /// One tenant finished.
    pub(crate) fn finished(&mut self) {
        self.finished_at(Instant::now());
    }

    fn finished_at(&mut self, now: Instant) {
        if self.settled {
            return;
        }
        self.finished += 1;
        if self.finished < self.window() {
            return;
        }
        let elapsed = now
            .saturating_duration_since(self.since)
            .max(Duration::from_micros(1));
        self.measured(self.finished as f64 / elapsed.as_secs_f64());
        self.finished = 0;
        self.since = now;
    }

    /// A window at the current level gave `rate` tenants per second.
    fn measured(&mut self, rate: f64) {
        match self.best {
            Some((level, best)) if rate < best * GAIN => {
                // The doubling bought too little: back to the best level.
                self.limit = level;
                self.settled = true;
                tracing::debug!(concurrency = level, "migration concurrency settled");
            }
            _ => {
                self.best = Some((self.limit, rate));
                if self.limit >= self.max {
                    self.settled = true;
                } else {
                    self.limit = (self.limit * 2).min(self.max);
                }
            }
        }
    }
}

/// Runs `work` on every item, as many at a time as `pace` allows (it may
/// change as they finish); the results in the order they finished.
pub(crate) async fn paced<I, F, Fut>(pace: &mut Pace, items: I, work: F) -> Vec<Fut::Output>
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: Future,
{
    let mut queue = items.into_iter();
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    loop {
        while running.len() < pace.limit() {
            let Some(item) = queue.next() else { break };
            running.push(work(item));
        }
        let Some(result) = running.next().await else {
            break;
        };
        pace.finished();
        done.push(result);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a pace against a server whose throughput at each level is
    /// `rate(level)`, until it settles; the level it settled on.
    fn settle(mut pace: Pace, rate: impl Fn(usize) -> f64) -> usize {
        for _ in 0..64 {
            if pace.settled {
                return pace.limit();
            }
            pace.measured(rate(pace.limit()));
        }
        panic!("never settled: {pace:?}");
    }

    #[test]
    fn climbs_while_doubling_pays_and_stops_at_the_knee() {
        // Scales to 8, flat after: 8.
        let knee8 = |l: usize| l.min(8) as f64 * 10.0;
        assert_eq!(settle(Pace::adaptive(64), knee8), 8);
        // Two cores, the server's work the limit: 2 and 4 tie, so 2.
        let two_cores = |l: usize| if l >= 2 { 20.0 } else { 11.0 };
        assert_eq!(settle(Pace::adaptive(16), two_cores), 2);
        // Worse past 4 (lock waits): back to 4.
        let worse = |l: usize| match l {
            2 => 10.0,
            4 => 18.0,
            _ => 9.0,
        };
        assert_eq!(settle(Pace::adaptive(16), worse), 4);
    }

    #[test]
    fn never_above_the_ceiling_and_fixed_never_moves() {
        let linear = |l: usize| l as f64;
        assert_eq!(settle(Pace::adaptive(6), linear), 6);
        assert_eq!(settle(Pace::adaptive(1), linear), 1);
        assert_eq!(settle(Pace::adaptive(0), linear), 1);
        let mut fixed = Pace::fixed(3);
        for _ in 0..100 {
            fixed.finished();
        }
        assert_eq!(fixed.limit(), 3);
        assert_eq!(Pace::fixed(0).limit(), 1);
    }

    #[test]
    fn a_window_is_a_count_of_finished_tenants() {
        let start = Instant::now();
        let mut pace = Pace::adaptive(8);
        pace.since = start;
        // 7 finished: no window yet.
        for i in 1..8 {
            pace.finished_at(start + Duration::from_millis(10 * i));
        }
        assert_eq!(pace.limit(), 2);
        // The 8th closes the window (100/s at 2): doubled.
        pace.finished_at(start + Duration::from_millis(80));
        assert_eq!(pace.limit(), 4);
        // 16 at 4, slower per second than at 2: settled back on 2.
        let again = start + Duration::from_millis(80);
        for i in 1..=16 {
            pace.finished_at(again + Duration::from_millis(20 * i));
        }
        assert_eq!(pace.limit(), 2);
        assert!(pace.settled);
    }
}
