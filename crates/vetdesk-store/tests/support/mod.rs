//! A PostgreSQL database of its own for each test, on the server named by
//! `VETDESK_TEST_POSTGRES_URL`, dropped afterwards (also when the test fails).

use sqlx::{Connection, Executor, PgConnection};
use std::io::Write as _;
use uuid::Uuid;
use vetdesk_store::PgStore;

pub fn server_url() -> Option<String> {
    match std::env::var("VETDESK_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Straight to stderr, past the test harness's capture, so a run
            // without a server says plainly that these tests did not run.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: VETDESK_TEST_POSTGRES_URL is not set"
            );
            None
        }
    }
}

/// `url` naming another database on the same server.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    match query {
        Some(q) => format!("{scheme}://{authority}/{database}?{q}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

/// A database of its own for one test, dropped when this goes out of scope.
pub struct TestDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create(admin_url: &str) -> TestDb {
        let name = format!("vetdesk_t_{}", Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("connect to VETDESK_TEST_POSTGRES_URL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        TestDb {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop may run on a runtime's thread (or while a test panics): do the
        // async work on a thread and runtime of its own, and wait for it.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok::<_, String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: the thread panicked",
                self.name
            ),
        }
    }
}

/// A fresh, migrated database and a store on it; `None` when no server is configured.
pub async fn fresh() -> Option<(TestDb, PgStore)> {
    let server = server_url()?;
    let db = TestDb::create(&server).await;
    let store = PgStore::connect(&db.url)
        .await
        .expect("connect and migrate");
    Some((db, store))
}
