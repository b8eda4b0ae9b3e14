//! The statements every throughput bench runs, on any SeaORM connection.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Schema, Set, sea_query::Table,
};
use tenancy_tests::{plan, post};

/// One statement kind of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Op {
    /// `post::Entity::find_by_id(i).one(..)`.
    FindById,
    /// 20 rows: `id > i ORDER BY id LIMIT 20`.
    Filter20,
    /// `ActiveModel::insert` (PostgreSQL: `INSERT .. RETURNING`).
    Insert,
    /// `find_by_id(i).find_also_related(plan::Entity)`: a join with the
    /// shared `plans` table.
    JoinShared,
}

impl Op {
    pub(crate) const ALL: [Op; 4] = [Op::FindById, Op::Filter20, Op::Insert, Op::JoinShared];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Op::FindById => "`find_by_id`",
            Op::Filter20 => "20-row filtered select",
            Op::Insert => "insert",
            Op::JoinShared => "`find_by_id` + join to shared `plans`",
        }
    }

    /// The `k`-th statement of the mix over `tenants` tenants: tenant
    /// `k % tenants`, and the four kinds in turn, so every (tenant, kind)
    /// pair comes once in `4 * tenants` operations.
    pub(crate) fn of_mix(k: u64, tenants: u64) -> (usize, Op) {
        let tenant = (k % tenants) as usize;
        (tenant, Op::ALL[((k / tenants) % 4) as usize])
    }
}

/// How the `k`-th operation picks its tenant: round-robin (every tenant
/// equally, the worst case for a cache) or Zipf-skewed (a few hot tenants,
/// a long tail, as real traffic).
#[derive(Debug, Clone)]
pub(crate) struct Picker {
    tenants: u64,
    /// The cumulative Zipf distribution, when skewed.
    cdf: Option<std::sync::Arc<Vec<f64>>>,
}

impl Picker {
    pub(crate) fn new(tenants: u64, zipf: Option<f64>) -> Self {
        let cdf = zipf.filter(|_| tenants > 1).map(|s| {
            let weights: Vec<f64> = (1..=tenants).map(|r| 1.0 / (r as f64).powf(s)).collect();
            let total: f64 = weights.iter().sum();
            let mut acc = 0.0;
            std::sync::Arc::new(
                weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect(),
            )
        });
        Picker { tenants, cdf }
    }

    /// The tenant and statement kind of operation `k`.
    pub(crate) fn pick(&self, k: u64) -> (usize, Op) {
        let Some(cdf) = &self.cdf else {
            return Op::of_mix(k, self.tenants);
        };
        // A fixed pseudo-random point per k (splitmix64).
        let mut z = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let u = (z >> 11) as f64 / (1u64 << 53) as f64;
        let tenant = cdf.partition_point(|c| *c < u).min(cdf.len() - 1);
        (tenant, Op::ALL[(k % 4) as usize])
    }
}

/// Runs `op` once; `k` picks the row (`rows` rows, ids `1..=rows`).
pub(crate) async fn run<C: ConnectionTrait>(
    conn: &C,
    op: Op,
    k: u64,
    rows: i32,
    plan_id: i32,
) -> Result<(), DbErr> {
    let i = (k % rows as u64) as i32 + 1;
    match op {
        Op::FindById => {
            post::Entity::find_by_id(i).one(conn).await?;
        }
        Op::Filter20 => {
            post::Entity::find()
                .filter(post::Column::Id.gt(i % (rows - 20).max(1)))
                .order_by_asc(post::Column::Id)
                .limit(20)
                .all(conn)
                .await?;
        }
        Op::Insert => {
            post::ActiveModel {
                title: Set(format!("new {k}")),
                status: Set(post::Status::Draft),
                plan_id: Set(plan_id),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
        Op::JoinShared => {
            post::Entity::find_by_id(i)
                .find_also_related(plan::Entity)
                .one(conn)
                .await?;
        }
    }
    Ok(())
}

/// (Re)creates `posts` on `conn` with `rows` rows numbered `1..=rows`, so
/// inserts take the next ids from the sequence.
pub(crate) async fn fill<C: ConnectionTrait>(
    conn: &C,
    rows: i32,
    plan_id: i32,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    conn.execute(&Table::drop().table(post::Entity).if_exists().to_owned())
        .await?;
    conn.execute(&Schema::new(backend).create_table_from_entity(post::Entity))
        .await?;
    for chunk in (1..=rows).collect::<Vec<_>>().chunks(500) {
        let models = chunk.iter().map(|i| post::ActiveModel {
            title: Set(format!("post {i}")),
            status: Set(post::Status::Published),
            plan_id: Set(plan_id),
            ..Default::default()
        });
        post::Entity::insert_many(models).exec(conn).await?;
    }
    Ok(())
}
