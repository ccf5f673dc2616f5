//! The router's name on its connection's span: with the `tracing` feature
//! and a subscriber that records the span, one `/system/identity/print`
//! after login fills the span's `identity` field, so every command and event
//! under it says which router it came from. Without a listener nothing is
//! sent.

use std::sync::Arc;
use std::time::Duration;

use crate::BufferPolicy;
use crate::connection::ConnectionHandle;
use crate::protocol::CommandResponse;
use crate::protocol::command::CommandBuilder;
use crate::runtime::{self, Runtime};

/// How long the answer may take before the span goes without a name: the
/// question is never worth holding a stream open for longer.
const PATIENCE: Duration = Duration::from_secs(10);

/// Asks in the background: the caller's connect never waits for it, and a
/// router that answers with a `!trap` (or not at all) only leaves the field
/// empty.
pub(crate) fn name_the_span(handle: &ConnectionHandle, runtime: &Arc<dyn Runtime>) {
    let span = handle.span().clone();
    if !span.is_recorded() {
        return;
    }
    let command = CommandBuilder::new()
        .command("/system/identity/print")
        .build();
    let Ok(mut replies) = handle.send(command, BufferPolicy::Bounded(4)) else {
        return;
    };
    let deadline = runtime::deadline_in(&**runtime, PATIENCE);
    let timer = Arc::clone(runtime);
    runtime.spawn(Box::pin(async move {
        let ask = async {
            while let Some(Ok(reply)) = replies.recv().await {
                if let CommandResponse::Reply(row) = reply
                    && let Some(name) = row.attributes.get("name")
                {
                    span.identity(name);
                }
            }
        };
        runtime::with_deadline(&*timer, deadline, ask, || ()).await;
    }));
}
