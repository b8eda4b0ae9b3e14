//! Tenant affinity: tenant statements spread over single-connection pools,
//! each tenant with a home connection of its own. A server connection (and
//! the backend behind it) then serves a fraction of the tenants, so its
//! prepared-statement cache and the server's catalog and plan caches hold
//! their statements instead of churning through every tenant's. A tenant
//! whose home connection is busy waits for it under load (its statements
//! are prepared there) and spills over to a free connection when the
//! system is lightly loaded or its queue at home is long, so a hot tenant
//! still spreads.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use sea_orm::DatabaseConnection;

/// The pools of one tenancy's tenant statements, each with the count of
/// statements, streams and transactions of this process using it (sqlx
/// returns a connection to its pool in a task of its own, so the pool's
/// idle count lags: this count does not).
#[derive(Debug)]
pub(crate) struct Partitions {
    pools: Vec<(DatabaseConnection, AtomicUsize)>,
    /// Connections per pool: a pool is busy with this many in use.
    per_pool: usize,
    /// In use at which a statement's home counts as busy and a free pool
    /// takes it instead (`usize::MAX`: never).
    spill_at: usize,
}

/// A pool chosen for one statement or transaction, counted busy until
/// dropped.
pub(crate) struct Lease {
    db: DatabaseConnection,
    slot: Option<(Arc<Partitions>, usize)>,
}

impl Lease {
    /// A pool that is not one of the partitions (nothing to count).
    pub(crate) fn uncounted(db: DatabaseConnection) -> Self {
        Lease { db, slot: None }
    }
}

impl std::ops::Deref for Lease {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.db
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some((partitions, i)) = &self.slot {
            partitions.pools[*i].1.fetch_sub(1, Ordering::Release);
        }
    }
}

impl Partitions {
    pub(crate) fn new(
        pools: Vec<DatabaseConnection>,
        per_pool: u32,
        spill_at: usize,
    ) -> Option<Self> {
        (!pools.is_empty()).then(|| Partitions {
            pools: pools
                .into_iter()
                .map(|p| (p, AtomicUsize::new(0)))
                .collect(),
            per_pool: usize::try_from(per_pool.max(1)).unwrap_or(1),
            spill_at: spill_at.max(1),
        })
    }

    /// The home pool of `home`: a jump consistent hash of its name, so the
    /// same tenant has the same home in every process (and a different
    /// count of pools moves few tenants).
    pub(crate) fn home_of(&self, home: &str) -> usize {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = rustc_hash::FxBuildHasher.build_hasher();
        hasher.write(home.as_bytes());
        jump(hasher.finish(), self.pools.len())
    }

    /// The pool for a statement of the tenant whose home is `home`: its
    /// home while it has a free connection; when it has none, a free pool
    /// (looked for in order from the home, so spill-over lands on few
    /// neighbours) if more than half the pools are free (little load:
    /// waiting would cost more than preparing elsewhere) or the home
    /// already has `spill_at` statements in use (a hot tenant); otherwise
    /// the home, whose connection knows the tenant's statements.
    pub(crate) fn lease(self: &Arc<Self>, home: usize) -> Lease {
        let n = self.pools.len();
        let load = |i: usize| self.pools[i].1.load(Ordering::Acquire);
        let home = home % n;
        let at_home = load(home);
        let i = if at_home < self.per_pool {
            home
        } else {
            let free = (0..n).filter(|i| load(*i) < self.per_pool).count();
            if free * 2 > n || at_home >= self.spill_at {
                (1..n)
                    .map(|k| (home + k) % n)
                    .find(|i| load(*i) < self.per_pool)
                    .unwrap_or(home)
            } else {
                home
            }
        };
        self.pools[i].1.fetch_add(1, Ordering::AcqRel);
        Lease {
            db: self.pools[i].0.clone(),
            slot: Some((self.clone(), i)),
        }
    }
}

/// Lamping and Veach's jump consistent hash: `key` to a bucket in
/// `0..buckets`.
fn jump(mut key: u64, buckets: usize) -> usize {
    let (mut b, mut j) = (-1i64, 0i64);
    let buckets = i64::try_from(buckets).unwrap_or(i64::MAX);
    while j < buckets {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b.wrapping_add(1) as f64)
            * ((1u64 << 31) as f64 / ((key >> 33).wrapping_add(1)) as f64)) as i64;
    }
    usize::try_from(b.max(0)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::jump;

    #[test]
    fn jump_spreads_keys_and_moves_few_when_buckets_grow() {
        let keys: Vec<u64> = (0..10_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let mut counts = [0usize; 16];
        for k in &keys {
            counts[jump(*k, 16)] += 1;
        }
        assert!(counts.iter().all(|c| (400..850).contains(c)), "{counts:?}");
        let moved = keys
            .iter()
            .filter(|k| jump(**k, 16) != jump(**k, 17))
            .count();
        assert!(
            moved < 1_000,
            "{moved} of 10,000 moved from 16 to 17 buckets"
        );
        assert_eq!(jump(42, 1), 0);
    }
}
