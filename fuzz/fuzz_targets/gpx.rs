//! The GPX reader on arbitrary bytes: it must return an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: runcoach_fuzz::init(), |data: &[u8]| {
    let _ = runcoach_fuzz::import::import_gpx(data);
});
