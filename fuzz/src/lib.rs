//! What the fuzz targets share. The code under fuzzing is `runcoach-pure`'s importers: the same
//! crate the service uses, built alone, so an instrumented build takes under a minute and CI runs
//! the targets (.ci/run).

pub use runcoach_pure::import;

use std::collections::HashSet;
use std::sync::Mutex;

/// libfuzzer-sys aborts on every panic, even one caught on purpose, and that is the default here:
/// a panic is a bug, even the fitparser ones the FIT reader catches (it runs fitparser under
/// `catch_unwind` as a last defence). Fix them by checking the input before fitparser sees it
/// (see `header_fits` in crates/runcoach-pure/src/import/fit.rs).
///
/// `RUNCOACH_FUZZ_LENIENT=1` lets fitparser panics pass (reported once per source location on
/// stderr), to fuzz past a known one until it is fixed; any other panic still aborts.
pub fn init() {
    if std::env::var_os("RUNCOACH_FUZZ_LENIENT").is_none() {
        return;
    }
    let abort_hook = std::panic::take_hook();
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        if location.contains("/fitparser-") {
            if seen.lock().map(|mut s| s.insert(location.clone())).unwrap_or(false) {
                eprintln!("[fuzz] fitparser panic caught by the FIT reader (first at {location}): {info}");
            }
            return;
        }
        abort_hook(info);
    }));
}
