//! `TenancyBuilder::build` warns about registered tables that are not where
//! they belong, on a real SQLite tenancy.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Database};
use tenancy::{Scope, Tenancy};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn build(dir: &std::path::Path) {
    let url = format!("sqlite://{}/shared.db?mode=rwc", dir.display());
    let db = Database::connect(&url).await.expect("sqlite");
    db.execute_unprepared("CREATE TABLE misplaced (id integer)")
        .await
        .expect("a tenant table in the shared file");
    db.execute_unprepared("CREATE TABLE present (id integer)")
        .await
        .expect("a shared table");
    Tenancy::builder(db)
        .table("ghost", Scope::Shared)
        .table("present", Scope::Shared)
        .table("misplaced", Scope::Tenant)
        .build()
        .await
        .expect("builds: the checks only warn");
}

#[test]
fn build_warns_about_tables_out_of_place() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let dir = tempfile::tempdir().expect("temp dir");
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(build(dir.path()));
    });
    let text = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        text.contains("shared table ghost is registered but missing from the shared home"),
        "{text}"
    );
    assert!(
        text.contains("tenant table misplaced also exists in the shared home"),
        "{text}"
    );
    assert!(!text.contains("table present"), "{text}");
}
