//! Test support: a fresh store per test, on SQLite or on PostgreSQL (zero2prod's helpers).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod garmin_fake;
pub mod kb;
pub mod llm_fake;

use std::sync::Arc;

use runcoach_core::chat::{BotCore, ChatRef, Content, Incoming, Reply, Sender};
use runcoach_core::domain::Platform;
use runcoach_core::store::{self, SqliteStore, Store};
use tempfile::TempDir;

/// The PostgreSQL server the suites use (trust auth on this machine and in CI).
pub fn postgres_admin_url() -> String {
    std::env::var("RUNCOACH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestStore {
    pub store: Arc<dyn Store>,
    /// Where a SQLite test keeps its file (kept alive for the test's duration).
    pub dir: TempDir,
    pub url: Option<String>,
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_in(dir.path()).await.expect("open sqlite store");
    TestStore { store: Arc::new(store), dir, url: None }
}

pub async fn postgres() -> TestStore {
    let name = format!("rc_test_{}", rand_suffix());
    let url = store::create_database(&postgres_admin_url(), &name)
        .await
        .expect("PostgreSQL must run on 127.0.0.1:5432 for the store suite (scripts/test starts it)");
    let store = store::connect(Some(&url), std::path::Path::new("unused")).await.expect("open postgres store");
    TestStore { store, dir: tempfile::tempdir().expect("temp dir"), url: Some(url) }
}

impl TestStore {
    /// The same database as another instance would open it: its own pool (PostgreSQL) or its own
    /// connections to the same file (SQLite).
    pub async fn second_instance(&self) -> Arc<dyn Store> {
        match &self.url {
            Some(url) => store::connect(Some(url), std::path::Path::new("unused")).await.expect("second pool"),
            None => Arc::new(SqliteStore::open_in(self.dir.path()).await.expect("second sqlite store")),
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    // Two tests of one process may read the same instant: the counter tells them apart.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{n}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// Runs each listed async test body (taking a `TestStore`) once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::postgres().await).await;
                }
            )*
        }
    };
}

/// A runner talking to the core on one platform, like an adapter would.
pub struct Runner<'a> {
    pub core: &'a BotCore,
    pub sender: Sender,
    pub chat: ChatRef,
}

impl<'a> Runner<'a> {
    pub fn new(core: &'a BotCore, platform: Platform, id: &str, lang: Option<&str>) -> Self {
        Runner {
            core,
            sender: Sender {
                platform,
                user_id: id.to_owned(),
                username: Some(format!("runner{id}")),
                language_code: lang.map(str::to_owned),
            },
            chat: ChatRef::new(format!("chat-{id}"), true),
        }
    }

    pub fn in_group(mut self, group: &str) -> Self {
        self.chat = ChatRef::new(group, false);
        self
    }

    pub async fn send(&self, text: &str) -> Vec<Reply> {
        self.core
            .handle(Incoming {
                sender: self.sender.clone(),
                chat: self.chat.clone(),
                content: Content::Text(text.to_owned()),
            })
            .await
    }

    pub async fn press(&self, data: &str) -> Vec<Reply> {
        self.core
            .handle(Incoming {
                sender: self.sender.clone(),
                chat: self.chat.clone(),
                content: Content::Button(data.to_owned()),
            })
            .await
    }

    pub async fn send_file(&self, name: &str, data: Vec<u8>) -> Vec<Reply> {
        let content = Content::File { name: name.to_owned(), mime: None, data };
        self.core.handle(Incoming { sender: self.sender.clone(), chat: self.chat.clone(), content }).await
    }

    /// Submits a form (a Discord modal) with its values in field order.
    pub async fn submit(&self, id: &str, values: &[&str]) -> Vec<Reply> {
        let content = Content::Form { id: id.to_owned(), values: values.iter().map(|v| (*v).to_owned()).collect() };
        self.core.handle(Incoming { sender: self.sender.clone(), chat: self.chat.clone(), content }).await
    }

    /// Sends and returns the replies' text joined.
    pub async fn say(&self, text: &str) -> String {
        joined(&self.send(text).await)
    }
}

/// A file from `../shared/fixtures` (real files no one on this project wrote).
pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

pub fn joined(replies: &[Reply]) -> String {
    replies.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// The data of the button whose label contains `label`.
pub fn button(replies: &[Reply], label: &str) -> String {
    replies
        .iter()
        .flat_map(|r| r.buttons.iter().flatten())
        .find(|b| b.label.contains(label))
        .map(|b| b.data.clone())
        .unwrap_or_else(|| panic!("no button {label:?} in {replies:?}"))
}
