//! `runcoach admin`: what an operator reads and steers without SQL — runners (no message
//! contents), the job queue, schedules, usage, Garmin syncs and retention. Every change is written
//! to the audit log (actor `operator`).

use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use runcoach_core::domain::UserId;
use runcoach_core::retention::{self, RetentionPolicy};
use runcoach_core::scheduler;
use runcoach_core::store::Store;
use serde_json::json;

use crate::cli::{AdminCommand, JobsCommand};
use crate::science_cmd::emit;

fn show(json: bool, value: &serde_json::Value, text: impl FnOnce() -> String) {
    if json {
        emit(&format!("{value}\n"));
    } else {
        emit(&text());
    }
}

fn when(t: Option<chrono::DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

pub async fn run(
    store: &dyn Store,
    policy: &RetentionPolicy,
    command: AdminCommand,
    find: impl AsyncFn(&dyn Store, &str) -> Result<UserId>,
) -> Result<ExitCode> {
    let now = Utc::now();
    match command {
        AdminCommand::Users { search, json } => {
            let users = store.admin_users(search.as_deref(), 10_000).await?;
            show(json, &json!(users), || {
                let mut out = String::from("id     last seen         acts plans  msgs garmin  identities\n");
                for u in &users {
                    out.push_str(&format!(
                        "{:<6} {:<17} {:>4} {:>5} {:>5} {:<6}  {}{}\n",
                        u.id.0,
                        when(u.last_seen),
                        u.activities,
                        u.plans,
                        u.messages,
                        if u.garmin_connected { "yes" } else { "no" },
                        u.identities.join(", "),
                        u.display_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
                    ));
                }
                out
            });
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::User { user, json } => {
            let id = find(store, &user).await?;
            let u = store.admin_user(id).await?;
            let schedules: Vec<_> =
                store.all_schedules(i64::MAX).await?.into_iter().filter(|s| s.user_id == Some(id)).collect();
            let value = json!({ "runner": u, "schedules": schedules });
            show(json, &value, || {
                let mut out = format!(
                    "runner {} {}\n  identities: {}\n  since {}, last seen {}\n  {} activities, {} plans, {} messages, Garmin {}\n",
                    u.id.0,
                    u.display_name.clone().unwrap_or_default(),
                    u.identities.join(", "),
                    when(Some(u.created_at)),
                    when(u.last_seen),
                    u.activities,
                    u.plans,
                    u.messages,
                    if u.garmin_connected { "connected" } else { "not connected" }
                );
                for s in &schedules {
                    out.push_str(&format!(
                        "  schedule {} {} \"{}\" {} {}\n",
                        s.id,
                        s.kind,
                        s.cron,
                        s.timezone,
                        if s.enabled { format!("next {}", when(s.next_run_at)) } else { "paused".to_owned() }
                    ));
                }
                out
            });
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Jobs { command: Some(JobsCommand::Retry { id }), .. } => {
            let done = store.retry_job(id, now).await?;
            if done {
                store.audit(None, "operator", "job_retry", &json!({ "job": id })).await?;
                emit(&format!("job {id}: queued again\n"));
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("runcoach admin jobs retry: job {id} is not failed or paused (see `runcoach admin jobs`)");
                Ok(ExitCode::from(2))
            }
        }
        AdminCommand::Jobs { command: Some(JobsCommand::Cancel { id }), .. } => {
            let done = store.cancel_job(id, now).await?;
            if done {
                store.audit(None, "operator", "job_cancel", &json!({ "job": id })).await?;
                emit(&format!("job {id}: cancelled\n"));
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("runcoach admin jobs cancel: job {id} is not pending or paused (see `runcoach admin jobs`)");
                Ok(ExitCode::from(2))
            }
        }
        AdminCommand::Jobs { command: None, state, json } => {
            let state = state.map(|s| s.to_lowercase());
            if let Some(s) = &state
                && !["pending", "running", "done", "failed", "paused"].contains(&s.as_str())
            {
                eprintln!("runcoach admin jobs: state {s:?} is one of pending, running, done, failed, paused");
                return Ok(ExitCode::from(2));
            }
            let jobs = store.admin_jobs(state.as_deref(), 200).await?;
            show(json, &json!(jobs), || {
                let mut out =
                    String::from("id     status   kind             runner attempts run at            error\n");
                for j in &jobs {
                    out.push_str(&format!(
                        "{:<6} {:<8} {:<16} {:<6} {:>8} {:<17} {}\n",
                        j.id,
                        j.status,
                        j.kind,
                        j.user_id.map_or_else(|| "-".to_owned(), |u| u.0.to_string()),
                        j.attempts,
                        when(Some(j.run_at)),
                        j.last_error.as_deref().unwrap_or("")
                    ));
                }
                out
            });
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Schedules { json } => {
            let schedules = store.all_schedules(10_000).await?;
            show(json, &json!(schedules), || {
                let mut out =
                    String::from("id     kind              runner chat                 cron             state\n");
                for s in &schedules {
                    out.push_str(&format!(
                        "{:<6} {:<17} {:<6} {:<20} {:<16} {}\n",
                        s.id,
                        s.kind.as_str(),
                        s.user_id.map_or_else(|| "-".to_owned(), |u| u.0.to_string()),
                        format!("{}:{}", s.chat.platform, s.chat.chat_id),
                        s.cron,
                        if s.enabled { format!("next {}", when(s.next_run_at)) } else { "paused".to_owned() }
                    ));
                }
                out
            });
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Sync { user } => {
            let id = find(store, &user).await?;
            if scheduler::queue_garmin_sync_now(store, id, now).await? {
                store.audit(Some(id), "operator", "garmin_sync", &json!({})).await?;
                emit(&format!("runner {}: Garmin sync queued (the next scheduler pass runs it)\n", id.0));
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("runcoach admin sync: runner {} has no Garmin connection", id.0);
                Ok(ExitCode::from(2))
            }
        }
        AdminCommand::Usage { days, json } => {
            let usage = store.usage(now, i64::from(days)).await?;
            show(json, &json!(usage), || {
                let mut out = format!(
                    "runners {}; active: {} today, {} in 7 days, {} in 30 days\n",
                    usage.runners, usage.active_1d, usage.active_7d, usage.active_30d
                );
                out.push_str("day         messages  LLM tokens\n");
                let mut days: Vec<&String> = usage
                    .messages_per_day
                    .iter()
                    .map(|(d, _)| d)
                    .chain(usage.llm_tokens_per_day.iter().map(|(d, _)| d))
                    .collect();
                days.sort();
                days.dedup();
                for d in days {
                    let m = usage.messages_per_day.iter().find(|(x, _)| x == d).map_or(0, |(_, n)| *n);
                    let t = usage.llm_tokens_per_day.iter().find(|(x, _)| x == d).map_or(0, |(_, n)| *n);
                    out.push_str(&format!("{d}  {m:>8}  {t:>10}\n"));
                }
                for (source, n) in &usage.activities_by_source {
                    out.push_str(&format!("activities from {source}: {n}\n"));
                }
                out
            });
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Retention { dry_run, json } => {
            let counts = retention::apply(store, policy, now, dry_run).await?;
            let inactive = retention::inactivity(store, policy, now, dry_run).await?;
            if !dry_run {
                store.audit(None, "operator", "retention_run", &json!(counts)).await?;
                for (user, erase_on) in &inactive.warned {
                    runcoach_core::scheduler::notify_inactive(store, *user, *erase_on, now).await?;
                }
            }
            let value = json!({
                "policy": policy,
                "dry_run": dry_run,
                "rows": counts,
                "inactive_runners": {
                    "warned": inactive.warned.len(),
                    "erased": inactive.erased,
                    "returned": inactive.returned,
                },
            });
            show(json, &value, || {
                let inactive_line = match policy.inactive_months {
                    None => "inactive runners: kept (RUNCOACH_RETAIN_INACTIVE_MONTHS not set)\n".to_owned(),
                    Some(m) => format!(
                        "inactive runners (silent {m} months; erased {} days after the warning): {} {}, {} {}, {} came back\n",
                        retention::INACTIVE_NOTICE_DAYS,
                        inactive.warned.len(),
                        if dry_run { "would be warned" } else { "warned" },
                        inactive.erased,
                        if dry_run { "would be erased" } else { "erased" },
                        inactive.returned
                    ),
                };
                format!(
                    "kept: conversations {} days, finished jobs {} days, audit log {} days, LLM usage {} days\n\
                     {}: {} messages, {} conversations, {} jobs, {} audit rows, {} LLM usage rows, {} expired link codes, {} abandoned dialogues\n{inactive_line}",
                    policy.conversations_days,
                    policy.jobs_days,
                    policy.audit_days,
                    policy.llm_usage_days,
                    if dry_run { "would delete" } else { "deleted" },
                    counts.messages,
                    counts.conversations,
                    counts.jobs,
                    counts.audit_log,
                    counts.llm_usage,
                    counts.link_codes,
                    counts.dialogue_states
                )
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}
