//! The session's writer: the only task that writes to the socket, so it
//! alone decides the order of every reply (cancels included).

use super::*;

pub(super) async fn write_out<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
    chunk: usize,
) -> io::Result<()> {
    if chunk == 0 {
        return w.write_all(bytes).await;
    }
    for piece in bytes.chunks(chunk) {
        w.write_all(piece).await?;
        w.flush().await?;
    }
    Ok(())
}

/// Writes every reply, in the order messages arrive; returns when the
/// session must close (or the socket failed).
pub(super) async fn write_loop<W: AsyncWrite + Unpin>(
    mut w: W,
    rx: async_channel::Receiver<Out>,
    shared: Arc<Shared>,
) {
    let cut = *lock(&shared.cut);
    let mut cut_at = match cut {
        Some(Cut::FromStart(n)) => Some(n),
        _ => None,
    };
    let mut written: u64 = 0;
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(first) = rx.recv().await {
        let mut next = Some(first);
        let mut end = false;
        while let Some(message) = next.take() {
            match message {
                Out::Data { cmd, payload, last } => match cmd {
                    Some(cmd) if cmd.is_done() => {}
                    Some(cmd) => {
                        if last {
                            cmd.finish();
                        }
                        cmd.answered.store(true, Ordering::SeqCst);
                        buf.extend_from_slice(payload.bytes());
                    }
                    None => buf.extend_from_slice(payload.bytes()),
                },
                Out::Cancel {
                    tag,
                    targets,
                    named,
                } => {
                    let interrupted: Vec<_> = targets.into_iter().filter(|t| t.finish()).collect();
                    let recorded = match &interrupted[..] {
                        [only] => lock(&only.replayed_cancel).take(),
                        _ => None,
                    };
                    match (recorded, &interrupted[..]) {
                        (Some(recorded), [only]) => {
                            let (own, target) = (tag.as_deref(), only.tag.as_deref());
                            replayed_cancel(&mut buf, own, target, &recorded);
                        }
                        _ => cancel_replies(&mut buf, tag.as_deref(), &interrupted, named),
                    }
                }
                Out::LoginComplete => {
                    if let (Some(Cut::AfterLogin(n)), None) = (cut, cut_at) {
                        cut_at = Some(written + buf.len() as u64 + n);
                    }
                }
                Out::Close => end = true,
                Out::Fatal(bytes) => {
                    buf.extend_from_slice(&bytes);
                    end = true;
                }
            }
            if end || buf.len() >= WRITE_BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if shared.silent.load(Ordering::SeqCst) {
            buf.clear();
        } else if !buf.is_empty() || cut_at.is_some_and(|at| at <= written) {
            let mut limit = buf.len();
            let mut cut_now = false;
            if let Some(at) = cut_at {
                let room = at.saturating_sub(written);
                if limit as u64 >= room {
                    limit = usize::try_from(room).unwrap_or(limit);
                    cut_now = true;
                }
            }
            let chunk = shared.write_chunk.load(Ordering::SeqCst);
            if write_out(&mut w, &buf[..limit], chunk).await.is_err() {
                return;
            }
            written += limit as u64;
            buf.clear();
            if cut_now {
                let _ = w.close().await;
                return;
            }
        }
        if end {
            let _ = w.close().await;
            return;
        }
        if buf.capacity() > 4 * WRITE_BATCH {
            buf = Vec::new();
        }
    }
}
