//! `/cancel`: the cancelled command's interrupted trap and the order of the
//! two `!done`s, as routers send them.

use super::*;

impl Session {
    pub(super) async fn cancel(&mut self, cmd: &Parsed<'_>) {
        let tag = cmd.tag.map(<[u8]>::to_vec);
        let (targets, named) = match cmd.attr(b"tag") {
            Some(target) => {
                let found = self.running.remove(target).filter(|h| !h.is_done());
                (found.into_iter().collect::<Vec<_>>(), true)
            }
            None => {
                let mut all: Vec<_> = self.running.drain().map(|(_, h)| h).collect();
                all.append(&mut self.untagged);
                all.retain(|h| !h.is_done());
                (all, false)
            }
        };
        if named && targets.is_empty() {
            self.reply(trap_done(cmd.tag, Some(0), b"no such command"))
                .await;
            return;
        }
        self.send(Out::Cancel {
            tag,
            targets,
            named,
        })
        .await;
    }
}

/// The answer to `/cancel` (tag `tag`) of `interrupted`, in the order of
/// MikroTik's manual and real routers: each interrupted trap, the cancel's
/// `!done`, then each cancelled command's `!done` (after `!empty` for a
/// 7.18+ `listen` that had sent nothing, as RouterOS 7.24 does).
pub(super) fn cancel_replies(
    buf: &mut Vec<u8>,
    tag: Option<&[u8]>,
    interrupted: &[Arc<CmdHandle>],
    named: bool,
) {
    for t in interrupted {
        trap(buf, t.tag.as_deref(), Some(2), b"interrupted");
    }
    if named && interrupted.is_empty() {
        trap(buf, tag, Some(0), b"no such command");
    }
    done(buf, tag, None);
    for t in interrupted {
        if t.empty_on_cancel.load(Ordering::SeqCst) && !t.answered.load(Ordering::SeqCst) {
            begin(buf, b"!empty", t.tag.as_deref());
            buf.push(0);
        }
        done(buf, t.tag.as_deref(), None);
    }
}

/// The recorded answer to a replayed command's `/cancel`, tags rewritten;
/// a `!done` the recording lacks (it ended first) is added at the end.
pub(super) fn replayed_cancel(
    out: &mut Vec<u8>,
    cancel_tag: Option<&[u8]>,
    target_tag: Option<&[u8]>,
    recorded: &[CancelReply],
) {
    let mut done_own = false;
    let mut done_target = false;
    for (own, words) in recorded {
        let is_done = words.first().is_some_and(|w| w == b"!done");
        if *own {
            done_own |= is_done;
            tagged(out, cancel_tag, words);
        } else {
            done_target |= is_done;
            tagged(out, target_tag, words);
        }
    }
    if !done_own {
        done(out, cancel_tag, None);
    }
    if !done_target {
        done(out, target_tag, None);
    }
}
