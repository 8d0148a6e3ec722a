//! Faults, with the real binary and real parts: PostgreSQL restarted under load (no message lost,
//! none sent twice), `kill -9` during a Garmin sync (the next sync finishes the history, nothing
//! twice), and a full disk under the SQLite store (a clear, translated error; nothing half-written).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../../tests/support/garmin_fake.rs"]
mod garmin_fake;
#[path = "../../telegram/tests/support/peer.rs"]
mod peer;
#[path = "support/serve.rs"]
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use peer::{Peer, TgUser, free_port, private_chat, say, text, wait_ready};
use runcoach_core::chat::ChatKey;
use runcoach_core::domain::Platform;
use runcoach_core::store;

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A PostgreSQL cluster of this test's own (initdb in a temporary directory, on its own port), so
/// that restarting it disturbs no other test. As root, the server runs as `postgres`.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|v| v.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("PostgreSQL's server binaries under /usr/lib/postgresql (scripts/test installs them)");
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let chown = Command::new("chown").arg("-R").arg("postgres:").arg(dir.path()).status().unwrap();
            assert!(chown.success());
        }
        let pg = PrivatePostgres { dir, bin, port: free_port() };
        let initdb = pg
            .as_server_user("initdb")
            .arg("-D")
            .arg(pg.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(initdb.status.success(), "initdb: {}", String::from_utf8_lossy(&initdb.stderr));
        pg.ctl("start");
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_server_user(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    /// `pg_ctl start|stop|restart`, waiting for it to finish; `stop` is the fast shutdown a
    /// restart does (sessions are cut, transactions in flight roll back).
    fn ctl(&self, action: &str) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let out = self
            .as_server_user("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "60", "-m", "fast", "-o", &options, "-l"])
            .arg(self.dir.path().join("server.log"))
            .arg(action)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .as_server_user("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runners message the bot and their weekly summaries fall due while PostgreSQL is stopped for
/// twelve seconds (longer than the pool waits for a connection) and started again. Every message
/// is answered once (the core waits for the database and handles the message again), every
/// summary is sent once (jobs stay queued in the database; a sent one is recorded as soon as the
/// database is back), and nobody is told the database is unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_loses_no_message_and_sends_none_twice() {
    let pg = PrivatePostgres::start();
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _serve = serve::serve(&peer, &pg.url(), dir.path(), port);
    wait_ready(port).await;

    let runners: Vec<TgUser> = (0..12).map(|i| TgUser { id: 9_300 + i, name: "Runner", lang: "en" }).collect();
    for r in &runners {
        say(&peer, r, private_chat(r), "/summary on").await;
    }
    for r in &runners {
        peer.wait_for(r.id, 0, "summary on", |m| text(m).contains("Weekly summary on")).await;
    }
    let on = peer.sent(runners[0].id).await.len();

    // Every summary falls due now: the scheduler sends them during the rounds below.
    let db = store::connect(Some(&pg.url()), dir.path()).await.unwrap();
    for r in &runners {
        let key = ChatKey { platform: Platform::Telegram, chat_id: r.id.to_string() };
        let s = db.schedule(store::ScheduleKind::WeeklySummary, &key).await.unwrap().unwrap();
        db.mark_schedule_run(s.id, None, Some(chrono::Utc::now() - chrono::Duration::minutes(1))).await.unwrap();
    }
    drop(db);

    // Rounds of messages (each runner sets a new weight: a write, answered with that weight)
    // before, during and after the outage.
    const ROUNDS: u32 = 6;
    let restart = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(1_500));
        pg.ctl("stop");
        let down = Instant::now();
        std::thread::sleep(Duration::from_secs(12));
        pg.ctl("start");
        (pg, down.elapsed())
    });
    for round in 0..ROUNDS {
        for r in &runners {
            say(&peer, r, private_chat(r), &format!("/profile weight {}", 60 + round)).await;
        }
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    let (_pg, outage) = restart.await.unwrap();
    assert!(outage >= Duration::from_secs(12), "the database was down for {outage:?}");

    let answered = |round: u32, m: &serde_json::Value| {
        let t = text(m);
        t.contains("Profile updated") && t.contains(&format!(" {} kg", 60 + round))
    };
    for r in &runners {
        for round in 0..ROUNDS {
            peer.wait_for(r.id, on, "the answer to each message", |m| answered(round, m)).await;
        }
        peer.wait_for(r.id, on, "the weekly summary", |m| text(m).contains("Weekly summary: week")).await;
    }
    // Several scheduler polls later, still exactly one of everything.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for r in &runners {
        let sent = peer.sent(r.id).await;
        let sent = &sent[on..];
        for round in 0..ROUNDS {
            let n = sent.iter().filter(|m| answered(round, m)).count();
            assert_eq!(n, 1, "runner {}: weight {} answered {n} times", r.id, 60 + round);
        }
        let summaries = sent.iter().filter(|m| text(m).contains("Weekly summary: week")).count();
        assert_eq!(summaries, 1, "runner {}: {summaries} summaries", r.id);
        assert!(
            !sent.iter().any(|m| text(m).contains("can't reach my database")),
            "runner {} was told the database is down: {sent:#?}",
            r.id
        );
    }
}

/// `runcoach sync garmin` killed with SIGKILL in the middle of a first sync (250 activities, a
/// slow splits endpoint): the next sync walks the whole history again, stores what was missing
/// and nothing twice, and asks Garmin for the laps of each run at most once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garmin_sync_killed_midway_finishes_the_history_next_time() {
    const TOTAL: usize = 250;
    let fake = garmin_fake::Fake {
        activities: garmin_fake::activities(40_000, TOTAL, chrono::Utc::now() - chrono::Duration::days(1)),
        splits_delay: Duration::from_millis(10),
        ..garmin_fake::Fake::default()
    };
    let (_client, fake) = garmin_fake::serve(fake).await;
    let base = fake.lock().unwrap().base.clone();
    let dir = tempfile::tempdir().unwrap();
    let sync = || {
        let mut cmd = serve::runcoach(dir.path());
        cmd.args(["sync", "garmin", "--user", "cam"])
            .env("RUNCOACH_GARMIN_SSO_URL", &base)
            .env("RUNCOACH_GARMIN_DIAUTH_URL", &base)
            .env("RUNCOACH_GARMIN_API_URL", &base)
            .env("RUNCOACH_GARMIN_EMAIL", garmin_fake::EMAIL)
            .env("RUNCOACH_GARMIN_PASSWORD", garmin_fake::PASSWORD)
            .env("RUNCOACH_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .stdin(Stdio::null());
        cmd
    };

    let mut first = sync().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Kill it once the first page (100 activities) is stored and the second is under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.lock().unwrap().splits_asked.len() < 130 {
        assert!(Instant::now() < deadline, "the sync never got to its second page");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let stored_before = activities(dir.path());
    assert!((100..TOTAL).contains(&stored_before), "killed midway: {stored_before} stored");

    let second = sync().output().unwrap();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(out.contains(&format!("{TOTAL} activities read")), "{out}");
    assert_eq!(activities(dir.path()), TOTAL, "every activity once");
    // Laps were asked again only for what the killed sync had not stored.
    let asked = fake.lock().unwrap().splits_asked.clone();
    let mut unique = asked.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), TOTAL, "laps asked for every run");
    assert!(asked.len() <= TOTAL + 2, "at most the run in flight at the kill is asked twice: {}", asked.len());

    // The history is complete: a third sync reads one page and stops at the newest.
    let lists = garmin_fake::hits(&fake, "list");
    let third = sync().output().unwrap();
    assert!(String::from_utf8_lossy(&third.stdout).contains("0 activities read, 0 new"));
    assert_eq!(garmin_fake::hits(&fake, "list") - lists, 1);
}

fn activities(dir: &Path) -> usize {
    let out = serve::runcoach(dir).args(["stats", "--user", "cam", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    usize::try_from(stats["activities"].as_u64().unwrap()).unwrap()
}

/// The SQLite store on a small filesystem that fills up (a tmpfs in a mount namespace of the
/// test's own). A chat already running answers, in the runner's language, that the storage is
/// full; an import started on the full disk says so and exits non-zero; nothing is half-written,
/// and once space is freed the same import goes through.
#[test]
fn a_full_disk_is_a_clear_error_and_nothing_is_half_written() {
    let fx = peer::repo().join("../shared/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let script = r#"
        mount -t tmpfs -o size=4m tmpfs "$DATA" || exit 97
        step() { echo "--- $1"; shift; "$@" 2>&1; echo "exit=$?"; }
        # Waits (up to 30 s) for the console chat to print $1.
        answered() {
            for _ in $(seq 300); do grep -q "$1" "$WORK/chat.out" && return 0; sleep 0.1; done
            echo "no answer $1"; return 1
        }
        step small "$RC" --data-dir "$DATA" import --user cam "$SMALL"
        step before "$RC" --data-dir "$DATA" stats --user cam --json
        # A console chat that is running when the disk fills up.
        mkfifo "$WORK/chat.in"
        "$RC" --data-dir "$DATA" chat --user cam --lang fr < "$WORK/chat.in" > "$WORK/chat.out" 2>&1 &
        exec 3> "$WORK/chat.in"
        echo "/profile poids 71" >&3
        answered "71 kg"
        cat /dev/zero > "$DATA/filler" 2>/dev/null
        echo "/profile poids 72" >&3
        answered "Mon espace de stockage est plein"
        exec 3>&-
        wait
        step chat cat "$WORK/chat.out"
        # The chat's exit may have checkpointed and removed its WAL, freeing a few pages: take
        # them too, so that the disk is still full for the next process (it was flaky under load).
        cat /dev/zero > "$DATA/filler1" 2>/dev/null
        step import "$RC" --data-dir "$DATA" import --user cam "$BIG"
        # Full to the last byte, with no process holding the store open: opening it fails.
        cat /dev/zero > "$DATA/filler2" 2>/dev/null
        step reopen "$RC" --data-dir "$DATA" import --user cam "$BIG"
        rm "$DATA/filler" "$DATA/filler1" "$DATA/filler2"
        step after "$RC" --data-dir "$DATA" stats --user cam --json
        step profile sh -c 'echo /profile | "$RC" --data-dir "$DATA" chat --user cam'
        step again "$RC" --data-dir "$DATA" import --user cam "$BIG"
    "#;
    let mut unshare = Command::new("unshare");
    unshare.args(["--mount", "--map-root-user", "sh", "-c", script]);
    let out: Output = serve::quiet(&mut unshare, dir.path())
        .env("RC", env!("CARGO_BIN_EXE_runcoach"))
        .env("DATA", &data)
        .env("WORK", dir.path())
        .env("SMALL", fx.join("fit/garmin-fenix-5-run.fit"))
        .env("BIG", fx.join("fit/activity-small-fenix2-run.fit"))
        .env("RUST_LOG", "error")
        .output()
        .expect("unshare (util-linux)");
    let all = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(97), "this test mounts a tmpfs in a namespace of its own: {all}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let section = |name: &str| -> String {
        let start = stdout.find(&format!("--- {name}\n")).unwrap_or_else(|| panic!("no {name} step: {all}"));
        let rest = &stdout[start + name.len() + 5..];
        rest[..rest.find("--- ").unwrap_or(rest.len())].to_owned()
    };
    assert!(!all.contains("panicked"), "{all}");
    assert!(section("small").contains("imported") && section("small").contains("exit=0"), "{all}");
    // The running chat: the first change saved, the second refused in French, and the chat went on.
    let chat = section("chat");
    assert!(chat.contains("71 kg") && chat.contains("Mon espace de stockage est plein"), "{all}");
    // A new process on the full disk: a plain-words error, a non-zero exit; whether the insert
    // or already the opening of the store finds the disk full.
    let import = section("import");
    assert!(import.contains("exit=1") && import.contains("My storage is full"), "{all}");
    assert!(!import.contains(": imported:"), "{all}");
    let reopen = section("reopen");
    assert!(reopen.contains("exit=1") && reopen.contains("My storage is full"), "{all}");
    assert!(!reopen.contains(": imported:"), "{all}");
    // Opening needs to write only when the previous process removed its WAL and shared-memory
    // files on exit, which races with the process ending (seen under a loaded full suite): then
    // the opening fails and names the device; otherwise the insert fails, as for `import`.
    assert!(reopen.contains("no space left on the device holding") || reopen.contains(": not saved:"), "{all}");
    // Nothing of the refused import or of the refused change was stored.
    let json = |s: String| -> serde_json::Value {
        serde_json::from_str(s.lines().find(|l| l.starts_with('{')).unwrap()).unwrap()
    };
    let (before, after) = (json(section("before")), json(section("after")));
    assert_eq!(before["activities"], 1, "{all}");
    assert_eq!(after, before, "{all}");
    let profile = section("profile");
    assert!(profile.contains("71 kg") && !profile.contains("72 kg"), "{all}");
    // With space again, the same import goes through.
    assert!(section("again").contains("imported") && section("again").contains("exit=0"), "{all}");
}
