//! `runcoach eval coach` as anyone runs it, against the deterministic coach: every scenario
//! runs, in both languages, and the score does not fall below the floor recorded in
//! docs/coach-eval.md. A change that makes the coach worse fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../telegram/tests/support/peer.rs"]
mod peer;
#[path = "support/serve.rs"]
mod serve;

use std::collections::BTreeSet;

use serde_json::Value;

/// Checks the deterministic coach passes (docs/coach-eval.md). Raise it when the coach gets
/// better; never lower it.
const FLOOR: u64 = 106;

#[test]
fn the_deterministic_coach_keeps_its_score() {
    let dir = tempfile::tempdir().unwrap();
    // No model configured, whatever the environment says (`serve::quiet`).
    let out = serve::runcoach(dir.path()).args(["eval", "coach", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["coach"], "deterministic");
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 40, "{} scenarios", scenarios.len());
    let langs: BTreeSet<&str> = scenarios.iter().map(|s| s["lang"].as_str().unwrap()).collect();
    assert_eq!(langs, BTreeSet::from(["en", "fr"]));
    let mut passed = 0;
    let mut kinds = BTreeSet::new();
    for s in scenarios {
        assert_eq!(s["model"], false, "{}", s["id"]);
        assert!(!s["answer"].as_str().unwrap().trim().is_empty(), "{} got no answer", s["id"]);
        for c in s["checks"].as_array().unwrap() {
            let kind = c["kind"].as_str().unwrap();
            kinds.insert(kind.to_owned());
            match (kind, &c["passed"]) {
                // The deterministic coach calls no tools: those checks are not judged, and say so.
                ("tool", Value::Null) => {}
                ("tool", other) => panic!("{}: a tool check judged without a model: {other}", s["id"]),
                (_, Value::Bool(p)) => passed += u64::from(*p),
                (_, other) => panic!("{}: {kind} not judged: {other}", s["id"]),
            }
        }
    }
    for kind in ["numbers", "plan", "tool", "safety", "sources", "language", "privacy", "injection"] {
        assert!(kinds.contains(kind), "no {kind} check");
    }
    assert!(passed >= FLOOR, "{passed} checks passed, below the floor of {FLOOR}");

    // The text report and the floor's exit code.
    let text = serve::runcoach(dir.path())
        .args(["eval", "coach", "--min-passed", &(FLOOR + 1000).to_string()])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(1), "below the asked floor: exit 1");
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("coach evaluation — deterministic") && shown.contains("injection"), "{shown}");
}
