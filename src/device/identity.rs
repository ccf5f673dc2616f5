//! The router's name on its connection's span: asked for with
//! `DeviceBuilder::trace_identity`, with the `tracing` feature
//! and a subscriber that records the span, one `/system/identity/print`
//! right after login fills the span's `identity` field, so every command and
//! event under it says which router it came from. Without a listener nothing
//! is sent.

use std::time::Duration;

use crate::BufferPolicy;
use crate::connection::ConnectionHandle;
use crate::protocol::CommandResponse;
use crate::protocol::command::CommandBuilder;
use crate::runtime::{self, Runtime};

/// How long connect waits for the answer before going on without it: a
/// router answers this in milliseconds, and a name is not worth more.
const PATIENCE: Duration = Duration::from_secs(2);

/// Asks before connect returns, so the stream it reads holds the connection
/// open no longer than connect does (a background task would keep a dropped
/// device's connection open until the answer came). A router that answers
/// with a `!trap`, or not within [`PATIENCE`], only leaves the field empty.
pub(crate) async fn name_the_span(handle: &ConnectionHandle, runtime: &dyn Runtime) {
    let span = handle.span();
    if !span.is_recorded() {
        return;
    }
    let command = CommandBuilder::new()
        .command("/system/identity/print")
        .build()
        .internal();
    let Ok(mut replies) = handle.send(command, BufferPolicy::Bounded(4)) else {
        return;
    };
    let ask = async {
        while let Some(Ok(reply)) = replies.recv().await {
            if let CommandResponse::Reply(row) = reply
                && let Some(name) = row.attributes.get("name")
            {
                span.identity(name);
            }
        }
    };
    let deadline = runtime::deadline_in(runtime, PATIENCE);
    runtime::with_deadline(runtime, deadline, ask, || ()).await;
}
