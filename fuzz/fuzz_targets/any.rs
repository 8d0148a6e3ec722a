//! The whole import on arbitrary bytes (format sniffing, gzip, ZIP, Garmin JSON and every reader):
//! it must return an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: runcoach_fuzz::init(), |data: &[u8]| {
    let _ = runcoach_fuzz::import::import_bytes("upload", data);
});
