//! Cross-crate tests of the family. The tests themselves are in `tests/tests/`;
//! this library holds what they share. The `fleet-replica` binary runs one
//! booking-service replica for the fleet test (`tests/tests/fleet_cluster.rs`,
//! by hand with `scripts/fleet`).
#![warn(missing_docs)]

/// The folder of the shared test data (`BOOKING_SHARED_DIR`), if set.
///
/// Tests that need it call this and, when it is `None`, say so on stderr and
/// return; `.ci/run` always sets it, so there they run.
pub fn shared_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("BOOKING_SHARED_DIR").map(std::path::PathBuf::from)
}
