//! runcoach's pure core: what a runner's training is, computed without touching the world.
//!
//! Domain types that parse at the boundary ([`domain`]), training science ([`science`]: VDOT,
//! paces, zones, load, history analysis), the plan engine and its validator ([`plan`]), goals and their progress ([`goal`]), the
//! activity file parsers ([`import`]: FIT, GPX, TCX, ZIP, Garmin JSON from bytes) and the two
//! languages ([`i18n`]). No function here reads a clock it was not given, a file, the network or
//! a database: the crate's dependencies cannot (checked by `tests/architecture.rs` at the
//! workspace root), so the compiler keeps it pure. `runcoach-core` re-exports these modules.

pub mod domain;
pub mod goal;
pub mod i18n;
pub mod import;
pub mod plan;
pub mod science;
pub mod watch;
