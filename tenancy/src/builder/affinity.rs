//! [`Affinity`]: how the builder spreads tenant statements over connections.

/// How tenant statements are spread over connections
/// ([`TenancyBuilder::affinity`](crate::TenancyBuilder::affinity)).
///
/// Every tenant has its own SQL text (`"tenant_acme"."posts"`), so on one
/// pool each connection would prepare every tenant's statements and keep
/// few: past a few dozen active tenants most statements would cost a
/// Parse round trip and a Close. With affinity (the default on PostgreSQL
/// and MySQL) the tenancy opens, from the shared pool's settings, as many
/// single-connection pools as the shared pool has connections, gives each
/// tenant a home among them (a consistent hash of its name), and runs its
/// statements there; a statement whose home is busy runs on a free
/// connection when more than half are free or its home already has
/// [`spill_after`](Affinity::spill_after) statements, and waits for its
/// home otherwise. Each connection then serves a fraction of the tenants
/// and keeps their statements prepared. The shared pool keeps serving the
/// registry and shared tables, so the process may open up to twice its
/// size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Affinity {
    pub(super) enabled: bool,
    pub(super) statement_cache: usize,
    pub(super) per_pool: u32,
    pub(super) spill_at: usize,
}

impl Default for Affinity {
    /// On, with a prepared-statement cache of 512 per connection (sqlx's
    /// default is 100).
    fn default() -> Self {
        Affinity {
            enabled: true,
            statement_cache: 512,
            per_pool: 1,
            spill_at: 6,
        }
    }
}

impl Affinity {
    /// Off: tenant statements run on the shared pool, as they come.
    pub const OFF: Affinity = Affinity {
        enabled: false,
        statement_cache: 0,
        per_pool: 1,
        spill_at: 6,
    };

    /// Prepared statements kept per connection. A shared pool whose cache
    /// is 0 (a pooler that cannot track prepared statements, such as
    /// PgBouncer before 1.21) keeps 0 whatever this says.
    pub fn statement_cache(mut self, statements: usize) -> Self {
        self.statement_cache = statements;
        self
    }

    /// How many statements of this process may be on a tenant's home
    /// before its next one runs on a free connection elsewhere (default 6:
    /// a short queue at home is cheaper than preparing the statement on a
    /// connection that does not know it; a hot tenant still spreads). With
    /// `usize::MAX` a tenant only ever uses its home.
    pub fn spill_after(mut self, in_use: usize) -> Self {
        self.spill_at = in_use.max(1);
        self
    }

    /// Connections per home (default 1): tenants share homes of this many
    /// connections, fewer homes, each serving more tenants, and a busy
    /// statement spills over less often.
    pub fn connections_per_home(mut self, connections: u32) -> Self {
        self.per_pool = connections.max(1);
        self
    }
}
