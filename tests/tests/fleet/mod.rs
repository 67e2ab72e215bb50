//! The parts of the fleet test: a fake Cal.com and replica processes.

pub(crate) mod fake_calcom;
pub(crate) mod replica;
