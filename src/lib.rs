//! An asynchronous, runtime-agnostic client for the MikroTik RouterOS API.
#![warn(missing_docs, missing_debug_implementations)]

pub mod protocol;
