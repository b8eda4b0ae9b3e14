//! A tenancy with a registry, a shared home and a home prefix of its own,
//! for tests that act on every tenant (`run_all`, consistency checks) and
//! must not see other tests' tenants.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, Statement};
use tenancy::{Irreversibly, Tenancy, TenancyBuilder, TenantStatus};

use crate::{Kind, soak, unique};

/// A tenancy with a registry and a home prefix of its own; dropped with
/// everything in it.
#[derive(Debug)]
pub struct Isolated {
    kind: Kind,
    /// The tenancy under test.
    pub tenancy: Tenancy,
    shared: String,
    prefix: String,
    _dir: Option<tempfile::TempDir>,
}

impl Isolated {
    /// A tenancy of its own on `kind` (`None`: the server is unreachable
    /// and not required).
    pub async fn new(kind: Kind) -> Option<Isolated> {
        Self::with(kind, |b| b).await
    }

    /// [`Isolated::new`], with `configure` applied to the builder.
    pub async fn with(
        kind: Kind,
        configure: impl FnOnce(TenancyBuilder) -> TenancyBuilder,
    ) -> Option<Isolated> {
        let shared = unique("iso");
        let url = kind.url();
        let mut dir = None;
        let db = match kind {
            Kind::Sqlite => {
                let tmp = tempfile::tempdir().expect("temp dir");
                let file = tmp.path().join("shared.db");
                let db =
                    sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", file.display()))
                        .await
                        .expect("sqlite opens");
                dir = Some(tmp);
                db
            }
            Kind::Postgres => {
                let db = soak::server(kind, 16).await?;
                db.execute_unprepared(&format!("CREATE SCHEMA \"{shared}\""))
                    .await
                    .expect("shared schema");
                db
            }
            _ => {
                let server = url.rsplit_once('/').map_or(url.as_str(), |(s, _)| s);
                let private = format!("{server}/{shared}");
                match soak::connect(kind, &private, &private, 16, true).await {
                    Ok(db) => db,
                    Err(err) => {
                        soak::unreachable(kind, &url, &err);
                        return None;
                    }
                }
            }
        };
        let prefix = format!("{shared}_");
        let mut builder = Tenancy::builder(db).home_prefix(&prefix);
        if kind.flavour() == Kind::Postgres {
            builder = builder.shared_schema(shared.clone());
        }
        let tenancy = configure(builder).build().await.expect("tenancy builds");
        Some(Isolated {
            kind,
            tenancy,
            shared,
            prefix,
            _dir: dir,
        })
    }

    /// Homes with this test's prefix, from the catalog.
    pub async fn homes(&self) -> BTreeSet<String> {
        if self.kind == Kind::Sqlite {
            return BTreeSet::new();
        }
        let sql = match self.kind {
            Kind::Postgres => "SELECT nspname FROM pg_namespace",
            _ => "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata",
        };
        self.tenancy
            .inner()
            .query_all_raw(Statement::from_string(self.kind.backend(), sql))
            .await
            .expect("catalog")
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("name"))
            .filter(|n| n.starts_with(&self.prefix))
            .collect()
    }

    /// The catalog and the registry agree, and no row is half-made.
    pub async fn check_consistent(&self) -> usize {
        let rows = self.tenancy.list().await.expect("list");
        for row in &rows {
            assert_eq!(row.status, TenantStatus::Active, "{row:?}");
        }
        let registered: BTreeSet<String> = rows
            .iter()
            .map(|r| self.tenancy.home_of(r.id.as_str()).expect("valid"))
            .collect();
        assert_eq!(
            self.homes().await,
            registered,
            "catalog and registry differ"
        );
        rows.len()
    }

    async fn cleanup(&self) {
        if self.kind == Kind::Sqlite {
            return; // the temporary directory goes with it
        }
        for row in self.tenancy.list().await.unwrap_or_default() {
            let _ = self.tenancy.drop(row.id.as_str(), Irreversibly).await;
        }
        let db = self.tenancy.inner();
        for home in self.homes().await {
            let sql = match self.kind {
                Kind::Postgres => format!("DROP SCHEMA IF EXISTS \"{home}\" CASCADE"),
                _ => format!("DROP DATABASE IF EXISTS `{home}`"),
            };
            let _ = db.execute_unprepared(&sql).await;
        }
        let sql = match self.kind {
            Kind::Postgres => format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.shared),
            _ => format!("DROP DATABASE IF EXISTS `{}`", self.shared),
        };
        let _ = db.execute_unprepared(&sql).await;
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| handle.block_on(self.cleanup()));
        }
    }
}
