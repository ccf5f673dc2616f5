//! Scripted answers: fixed replies, bulk rows, raw bytes, custom closures,
//! a replayed transcript, and paced answers (certificate signing).

use super::*;

impl Session {
    /// Runs an answer that may take time (`certificates.rs`): a running,
    /// cancellable command until its last piece is written.
    #[cfg(feature = "testing-tls")]
    pub(super) async fn paced(
        &mut self,
        tag: Option<&[u8]>,
        answer: crate::testing::certificates::Answer,
    ) {
        use crate::testing::certificates::Answer;
        let (pause, pieces, finish) = match answer {
            Answer::Now(bytes) => {
                self.reply(bytes).await;
                return;
            }
            Answer::Paced {
                pause,
                pieces,
                finish,
            } => (pause, pieces, finish),
        };
        let (handle, stop) = self.register(tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for piece in pieces {
                if !emitter.send(Payload::Owned(piece), false).await {
                    return;
                }
                Timer::after(pause).await;
            }
            emitter.send(Payload::Owned(finish()), true).await;
        });
    }

    pub(super) async fn run_script(
        &mut self,
        cmd: &Parsed<'_>,
        sentence: &Sentence,
        script: Script,
    ) -> bool {
        let is_login = cmd.path == b"/login";
        let tag = cmd.tag;
        match script {
            Script::Reply(reply) => {
                let logs_in = is_login && reply.traps.is_empty();
                match reply.delay {
                    Some(delay) => {
                        let (handle, stop) = self.register(tag);
                        let emitter = self.emitter(handle);
                        self.spawn(stop, async move {
                            Timer::after(delay).await;
                            let bytes = encode_reply(&reply, emitter.tag());
                            emitter.send(Payload::Owned(bytes), true).await;
                        });
                    }
                    None => {
                        self.reply(encode_reply(&reply, tag)).await;
                    }
                }
                if logs_in {
                    self.logged_in_now().await;
                }
            }
            Script::Bulk { count, attributes } => {
                let (handle, stop) = self.register(tag);
                let emitter = self.emitter(handle);
                self.spawn(stop, bulk(emitter, count, attributes));
            }
            Script::Silent => {
                self.register(tag);
            }
            Script::Raw(bytes) => {
                self.reply(bytes).await;
            }
            Script::RawThenClose(bytes) => {
                self.reply(bytes).await;
                self.send(Out::Close).await;
                return false;
            }
            Script::Fatal(reason) => {
                self.fatal(reason.as_bytes()).await;
                return false;
            }
            Script::Custom(f) => {
                // A panicking user closure must not take the mock's thread down.
                let call = std::panic::AssertUnwindSafe(|| f(sentence));
                let Ok(sentences) = std::panic::catch_unwind(call) else {
                    self.fatal(b"script panicked").await;
                    return false;
                };
                let mut out = Vec::new();
                for words in &sentences {
                    for word in words {
                        put_word(&mut out, &[word]);
                    }
                    out.push(0);
                }
                let first = |s: &Vec<Vec<u8>>| s.first().cloned().unwrap_or_default();
                let logs_in = is_login
                    && sentences.last().is_some_and(|s| first(s) == b"!done")
                    && !sentences.iter().any(|s| first(s) == b"!trap");
                self.reply(out).await;
                if logs_in {
                    self.logged_in_now().await;
                }
            }
        }
        true
    }

    /// Answers a command from a transcript; `false` when the session must close.
    pub(super) async fn replay(&mut self, cmd: &Parsed<'_>, plan: Plan) -> bool {
        let tag = cmd.tag;
        let (replies, end, cancel) = match plan {
            Plan::Unmatched(message) => {
                self.reply(trap_done(tag, Some(0), &message)).await;
                return true;
            }
            Plan::Answer {
                replies,
                end,
                cancel,
            } => (replies, end, cancel),
        };
        let is_login = cmd.path == b"/login";
        let timing = self.shared.replay.as_ref().is_some_and(|r| r.timing);
        if end == End::Fatal || (end == End::Done && (!timing || is_login)) {
            let mut out = Vec::new();
            let mut fatal_reason = None;
            for reply in &replies {
                if reply.words.first().is_some_and(|w| w == b"!fatal") {
                    fatal_reason = Some(reply.words.get(1).cloned().unwrap_or_default());
                } else {
                    tagged(&mut out, tag, &reply.words);
                }
            }
            self.reply(out).await;
            if let Some(reason) = fatal_reason {
                self.fatal(&reason).await;
                return false;
            }
            let trapped = replies.iter().any(|r| r.words[0] == b"!trap");
            let challenge = replies
                .iter()
                .any(|r| r.words.iter().any(|w| w.starts_with(b"=ret=")));
            if is_login && !trapped && !challenge {
                self.logged_in_now().await;
            }
            return true;
        }
        let (handle, stop) = self.register(tag);
        *lock(&handle.replayed_cancel) = cancel;
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            let start = std::time::Instant::now();
            let count = replies.len();
            for (i, reply) in replies.into_iter().enumerate() {
                if timing && let Some(wait) = reply.after.checked_sub(start.elapsed()) {
                    Timer::after(wait).await;
                }
                let mut out = Vec::new();
                tagged(&mut out, emitter.tag(), &reply.words);
                let last = end == End::Done && i + 1 == count;
                if !emitter.send(Payload::Owned(out), last).await {
                    return;
                }
            }
        });
        true
    }
}

/// `count` copies of one pre-encoded row, written in large shared chunks.
pub(super) async fn bulk(emitter: Emitter, count: usize, attributes: Vec<(String, String)>) {
    let mut one = Vec::new();
    begin(&mut one, b"!re", emitter.tag());
    for (k, v) in &attributes {
        attr(&mut one, k.as_bytes(), v.as_bytes());
    }
    one.push(0);
    let per_chunk = (BULK_CHUNK / one.len()).max(1);
    let chunk: Arc<[u8]> = one.repeat(per_chunk.min(count.max(1))).into();
    let mut remaining = count;
    while remaining >= per_chunk {
        if !emitter
            .send(Payload::Shared(Arc::clone(&chunk)), false)
            .await
        {
            return;
        }
        remaining -= per_chunk;
    }
    let mut tail = one.repeat(remaining);
    done(&mut tail, emitter.tag(), None);
    emitter.send(Payload::Owned(tail), true).await;
}

// ------------------------------------------------------------------- writer
