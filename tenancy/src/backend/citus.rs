//! Citus, the PostgreSQL flavour that spreads tenant schemas over workers
//! ("schema-based sharding"): each tenant schema is distributed when it is
//! made and lives whole on one worker; the coordinator routes a statement
//! by the schema its qualified names point at, which is what the rewriter
//! writes. Everything Citus-specific the library sends is here.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use super::{Backend, Cluster, postgres::Postgres};
use crate::{
    cluster::{Lint, Move, Node, Transfer},
    dialect::Dialect,
    error::{Error, Result},
};

/// Whether the database has the `citus` extension, and whether this node
/// is the coordinator (a worker's metadata gives it a group other than 0).
async fn probe<C: ConnectionTrait + ?Sized>(db: &C) -> Result<Option<bool>> {
    let installed = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus'",
        ))
        .await?
        .is_some();
    if !installed {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT citus_is_coordinator()",
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("citus_is_coordinator".to_owned()))?;
    Ok(Some(row.try_get_by_index::<bool>(0)?))
}

/// Whether tenants are laid out for Citus: `choice` from the builder
/// (`None`: whether the extension is installed; `Some(false)`: no, without
/// reading the database). A worker is refused: DDL sent to it does not
/// reach the cluster.
pub(super) async fn detect(db: &DatabaseConnection, choice: Option<bool>) -> Result<bool> {
    if choice == Some(false) {
        // Plain PostgreSQL, as asked: nothing to read.
        return Ok(false);
    }
    // In a transaction: behind a transaction-pooling PgBouncer a prepared
    // statement must not change server between Parse and Execute.
    let txn = db.begin().await?;
    let probed = probe(&txn).await?;
    txn.commit().await?;
    match (probed, choice) {
        (Some(false), _) => Err(Error::Config(
            "this is a Citus worker: connect to the coordinator (DDL and the tenant registry live there)"
                .to_owned(),
        )),
        (None, Some(true)) => Err(Error::Config(
            "Citus was asked for but the database has no citus extension".to_owned(),
        )),
        (Some(true), choice) => Ok(choice.unwrap_or(true)),
        (None, _) => Ok(false),
    }
}

/// `home` as a SQL string literal (a validated home has no quote; doubled
/// all the same).
fn literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// Distributes the schema just made in the same transaction, whatever the
/// cluster's `citus.enable_schema_based_sharding`.
pub(super) fn distribute_sql(home: &str) -> String {
    format!(
        "SELECT citus_schema_distribute({}::regnamespace)",
        literal(&Dialect::Postgres.quote(home))
    )
}

/// Gives every enum type in `schemas` that has none an `IMMUTABLE` cast to
/// `text`. SeaORM reads a native enum column as `CAST(col AS text)`, and
/// PostgreSQL's own enum-to-text conversion is only `STABLE`, which Citus
/// refuses in the `RETURNING` clause of a distributed insert or update. The
/// cast gives the same text; it lives beside its type (a tenant's goes with
/// the tenant's schema). A concurrent run that made it first is left be.
pub(super) fn enum_casts_sql(schemas: &[&str]) -> String {
    let list: Vec<String> = schemas.iter().map(|s| literal(s)).collect();
    format!(
        "DO $tenancy$ DECLARE r record; f text; BEGIN \
         FOR r IN SELECT t.oid, n.nspname, t.typname FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype = 'e' AND n.nspname IN ({}) AND NOT EXISTS \
         (SELECT 1 FROM pg_catalog.pg_cast c WHERE c.castsource = t.oid \
         AND c.casttarget = 'pg_catalog.text'::regtype) LOOP \
         f := 'tenancy_enum_text_' || r.oid; \
         BEGIN \
         EXECUTE format('CREATE FUNCTION %I.%I(%I.%I) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L', \
         r.nspname, f, r.nspname, r.typname, 'SELECT pg_catalog.textin(pg_catalog.enum_out($1))'); \
         EXECUTE format('CREATE CAST (%I.%I AS pg_catalog.text) WITH FUNCTION %I.%I(%I.%I)', \
         r.nspname, r.typname, r.nspname, f, r.nspname, r.typname); \
         EXCEPTION WHEN unique_violation OR duplicate_object OR duplicate_function THEN NULL; \
         END; END LOOP; END $tenancy$",
        list.join(", ")
    )
}

/// Makes `table` (`name` or `schema.name`) a reference table: a copy on
/// every node, so tenant tables can join it and hold foreign keys into it.
/// `Ok(false)` when it already is one, or the database is not Citus.
pub(crate) async fn reference_table<C: ConnectionTrait + ?Sized>(
    conn: &C,
    table: &str,
) -> Result<bool> {
    if conn.get_database_backend() != DbBackend::Postgres || probe(conn).await?.is_none() {
        return Ok(false);
    }
    let qualified = match table.split_once('.') {
        Some((schema, name)) => format!(
            "{}.{}",
            Dialect::Postgres.quote(schema),
            Dialect::Postgres.quote(name)
        ),
        None => Dialect::Postgres.quote(table),
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT to_regclass($1) IS NOT NULL, EXISTS (SELECT 1 FROM pg_dist_partition \
             WHERE logicalrelid = to_regclass($1))",
            [qualified.clone().into()],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("to_regclass".to_owned()))?;
    let (exists, distributed): (bool, bool) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    if !exists {
        return Err(Error::Config(format!(
            "no table {table} to make a reference table"
        )));
    }
    if distributed {
        return Ok(false);
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT create_reference_table(to_regclass($1))",
        [qualified.into()],
    ))
    .await?;
    Ok(true)
}

fn node(host: String, port: i32) -> Result<Node> {
    let port =
        u16::try_from(port).map_err(|_| Error::Config(format!("node {host} has port {port}")))?;
    Ok(Node { host, port })
}

/// Where each schema's tables are: one row per schema, from the shard
/// placements of its tables (a schema with no table yet has none).
const PLACEMENTS: &str = "SELECT DISTINCT ON (n.nspname) CAST(n.nspname AS text), \
     CAST(p.nodename AS text), p.nodeport FROM pg_catalog.pg_dist_shard s \
     JOIN pg_catalog.pg_dist_shard_placement p ON p.shardid = s.shardid \
     JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_dist_schema d ON d.schemaid = n.oid";

#[async_trait::async_trait]
impl Cluster for Postgres {
    async fn nodes(&self, db: &DatabaseConnection) -> Result<Vec<Node>> {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT CAST(nodename AS text), nodeport FROM pg_catalog.pg_dist_node \
                 WHERE isactive AND noderole = 'primary' AND shouldhaveshards \
                 ORDER BY nodename, nodeport",
            ))
            .await?;
        rows.iter()
            .map(|r| node(r.try_get_by_index(0)?, r.try_get_by_index(1)?))
            .collect()
    }

    async fn placements(
        &self,
        db: &DatabaseConnection,
        home: Option<&str>,
    ) -> Result<Vec<(String, Node)>> {
        let stmt = match home {
            Some(home) => Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("{PLACEMENTS} WHERE n.nspname = $1"),
                [home.into()],
            ),
            None => Statement::from_string(
                DbBackend::Postgres,
                format!("{PLACEMENTS} ORDER BY n.nspname"),
            ),
        };
        let rows = db.query_all_raw(stmt).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get_by_index(0)?,
                    node(r.try_get_by_index(1)?, r.try_get_by_index(2)?)?,
                ))
            })
            .collect()
    }

    async fn move_home(
        &self,
        db: &DatabaseConnection,
        home: &str,
        to: &Node,
        transfer: Transfer,
    ) -> Result<()> {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT citus_schema_move(CAST(quote_ident($1) AS regnamespace), $2, $3, \
             shard_transfer_mode => CAST($4 AS citus.shard_transfer_mode))",
            [
                home.into(),
                to.host.clone().into(),
                i32::from(to.port).into(),
                transfer.citus_mode().into(),
            ],
        ))
        .await?;
        Ok(())
    }

    async fn rebalance_plan(&self, db: &DatabaseConnection) -> Result<Vec<Move>> {
        let plan = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT CAST(n.nspname AS text), CAST(p.sourcename AS text), p.sourceport, \
                 CAST(p.targetname AS text), p.targetport \
                 FROM get_rebalance_table_shards_plan() p \
                 JOIN pg_catalog.pg_class c ON c.oid = p.table_name \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
            ))
            .await?;
        let mut moves: Vec<Move> = Vec::new();
        for r in &plan {
            let home: String = r.try_get_by_index(0)?;
            if moves.iter().any(|m| m.home == home) {
                continue;
            }
            moves.push(Move {
                home,
                from: node(r.try_get_by_index(1)?, r.try_get_by_index(2)?)?,
                to: node(r.try_get_by_index(3)?, r.try_get_by_index(4)?)?,
            });
        }
        Ok(moves)
    }

    async fn rebalance(&self, db: &DatabaseConnection, transfer: Transfer) -> Result<Vec<Move>> {
        let moves = self.rebalance_plan(db).await?;
        if !moves.is_empty() {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT rebalance_table_shards(shard_transfer_mode => \
                 CAST($1 AS citus.shard_transfer_mode))",
                [transfer.citus_mode().into()],
            ))
            .await?;
        }
        Ok(moves)
    }

    async fn lint(&self, db: &DatabaseConnection, shared: &[&str]) -> Result<Vec<Lint>> {
        let schema = self.shared_home().to_owned();
        let mut lints = Vec::new();
        let local = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT CAST(c.relname AS text) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT EXISTS \
                 (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = c.oid) \
                 ORDER BY 1",
                [schema.clone().into()],
            ))
            .await?;
        for r in &local {
            let table: String = r.try_get_by_index(0)?;
            if shared.contains(&table.as_str()) {
                lints.push(Lint::LocalSharedTable { table });
            }
        }
        let into_tenant = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT CAST(src.relname AS text), CAST(k.conname AS text), \
                 CAST(tn.nspname || '.' || dst.relname AS text) FROM pg_catalog.pg_constraint k \
                 JOIN pg_catalog.pg_class src ON src.oid = k.conrelid \
                 JOIN pg_catalog.pg_namespace sn ON sn.oid = src.relnamespace \
                 JOIN pg_catalog.pg_class dst ON dst.oid = k.confrelid \
                 JOIN pg_catalog.pg_namespace tn ON tn.oid = dst.relnamespace \
                 WHERE k.contype = 'f' AND sn.nspname = $1 AND tn.nspname <> $1 \
                 AND tn.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
                [schema.into()],
            ))
            .await?;
        for r in &into_tenant {
            lints.push(Lint::ForeignKeyIntoTenant {
                table: r.try_get_by_index(0)?,
                constraint: r.try_get_by_index(1)?,
                references: r.try_get_by_index(2)?,
            });
        }
        let narrow = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT CAST(c.relname AS text), CAST(a.attname AS text), \
                 format_type(a.atttypid, a.atttypmod), count(*) \
                 FROM pg_catalog.pg_dist_schema d \
                 JOIN pg_catalog.pg_class c ON c.relnamespace = d.schemaid AND c.relkind IN ('r', 'p') \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 LEFT JOIN pg_catalog.pg_attrdef f ON f.adrelid = c.oid AND f.adnum = a.attnum \
                 WHERE a.atttypid IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype) \
                 AND (a.attidentity <> '' OR pg_get_expr(f.adbin, f.adrelid) LIKE 'nextval(%') \
                 GROUP BY 1, 2, 3 ORDER BY 1, 2",
            ))
            .await?;
        for r in &narrow {
            lints.push(Lint::NarrowKey {
                table: r.try_get_by_index(0)?,
                column: r.try_get_by_index(1)?,
                type_name: r.try_get_by_index(2)?,
                tenants: u64::try_from(r.try_get_by_index::<i64>(3)?).unwrap_or(0),
            });
        }
        let triggers = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT CAST(c.relname AS text), CAST(t.tgname AS text), count(*) \
                 FROM pg_catalog.pg_dist_schema d \
                 JOIN pg_catalog.pg_class c ON c.relnamespace = d.schemaid \
                 JOIN pg_catalog.pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal \
                 GROUP BY 1, 2 ORDER BY 1, 2",
            ))
            .await?;
        for r in &triggers {
            lints.push(Lint::Trigger {
                table: r.try_get_by_index(0)?,
                trigger: r.try_get_by_index(1)?,
                tenants: u64::try_from(r.try_get_by_index::<i64>(2)?).unwrap_or(0),
            });
        }
        Ok(lints)
    }
}

#[cfg(test)]
mod tests {
    use super::{distribute_sql, enum_casts_sql};

    #[test]
    fn names_reach_the_sql_quoted() {
        assert_eq!(
            distribute_sql("tenant_acme"),
            "SELECT citus_schema_distribute('\"tenant_acme\"'::regnamespace)"
        );
        let sql = enum_casts_sql(&["tenant_acme", "o'hare"]);
        assert!(sql.contains("IN ('tenant_acme', 'o''hare')"), "{sql}");
    }
}
