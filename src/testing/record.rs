//! Recording: a stream wrapper that writes a transcript of both directions.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

use super::transcript::{Direction, Entry, TRANSCRIPT_HEADER, Transcript, TranscriptError};
use super::{lock, sealed};
use crate::protocol::{Decoder, Sentence, secrets};

/// Wraps any futures-io stream (plain TCP, TLS, a tunnel) and writes every
/// sentence that passes, in both directions, to a transcript (format in
/// [`Transcript`]); secrets are redacted before anything is written.
///
/// The bytes pass through untouched. Recording costs only when a stream is
/// wrapped: without a `Recorder` nothing of it runs. If the transcript
/// cannot be written, the next read or write of the stream fails with that
/// error (a recording that silently lost sentences would mislead a test).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use mikrotik_rs::MikrotikDevice;
/// use mikrotik_rs::testing::Recorder;
///
/// let address: std::net::SocketAddr = "192.168.88.1:8728".parse()?;
/// let tcp = async_io::Async::<std::net::TcpStream>::connect(address).await?;
/// let stream = Recorder::to_file(tcp, "tests/transcripts/my-router.txt")?;
/// let device = MikrotikDevice::builder("192.168.88.1")
///     .credentials("admin", Some("secret"))
///     .connect_stream(stream)
///     .await?;
/// # let _ = device; Ok(()) }
/// ```
///
/// For API-SSL, wrap the TLS stream (the plaintext side), not the socket.
pub struct Recorder<S> {
    inner: S,
    sink: Arc<Mutex<Sink>>,
    sent: Decoder,
    received: Decoder,
    /// A direction whose bytes stopped framing is no longer decoded.
    sent_broken: bool,
    received_broken: bool,
    /// This connection's open commands: tags are per connection, and other
    /// connections may record into the same sink at the same time.
    open: OpenCommands,
}

/// The commands open on one connection, so a reply's secrets are those of
/// its command.
#[derive(Default)]
struct OpenCommands {
    /// Each open command, by tag.
    paths: HashMap<Vec<u8>, Open>,
    /// The open commands sent without a tag, oldest first.
    untagged: VecDeque<Open>,
}

pub(super) struct Sink {
    out: Box<dyn Write + Send>,
    start: Instant,
    error: Option<io::Error>,
    /// This recording's salt for the `/login` secrets it keeps as hashes.
    salt: [u8; 16],
}

/// What a reply's redaction needs to know of its command.
struct Open {
    path: Vec<u8>,
    /// Its `ret` reads a secret back (a `get` of a secret `value-name`).
    secret_ret: bool,
}

impl<S> fmt::Debug for Recorder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl<S> Recorder<S> {
    /// Records to any writer (each sentence is written, then flushed).
    pub fn new(inner: S, out: impl Write + Send + 'static) -> Self {
        Self::joining(inner, Sink::shared(Box::new(out)))
    }

    /// Records into `sink`, which other recorders (earlier connections of
    /// the same device) may have written to.
    pub(super) fn joining(inner: S, sink: Arc<Mutex<Sink>>) -> Self {
        Self {
            inner,
            sink,
            sent: Decoder::default(),
            received: Decoder::default(),
            sent_broken: false,
            received_broken: false,
            open: OpenCommands::default(),
        }
    }

    /// Records to a new file at `path` (replaced if it exists).
    pub fn to_file(inner: S, path: impl AsRef<Path>) -> io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(Self::new(inner, io::BufWriter::new(file)))
    }

    /// Records into memory; the [`TranscriptBuffer`] reads it back at any time.
    pub fn in_memory(inner: S) -> (Self, TranscriptBuffer) {
        let buffer = TranscriptBuffer::default();
        (Self::new(inner, buffer.clone()), buffer)
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn take_error(&self) -> Option<io::Error> {
        let mut sink = lock(&self.sink);
        let error = sink.error.take()?;
        let message = format!("the transcript could not be written: {error}");
        // Keep failing: one error, reported on every later call.
        sink.error = Some(io::Error::new(error.kind(), error.to_string()));
        Some(io::Error::new(error.kind(), message))
    }

    fn record(&mut self, direction: Direction, mut bytes: &[u8]) {
        let (decoder, broken) = match direction {
            Direction::Sent => (&mut self.sent, &mut self.sent_broken),
            Direction::Received => (&mut self.received, &mut self.received_broken),
        };
        if *broken {
            return;
        }
        let mut sink = lock(&self.sink);
        loop {
            match decoder.decode(&mut bytes) {
                Ok(Some(sentence)) => {
                    let offset = sink.start.elapsed();
                    let entry = sink.entry(&mut self.open, direction, offset, &sentence);
                    sink.line(&entry.to_string());
                }
                Ok(None) => return,
                Err(error) => {
                    let who = match direction {
                        Direction::Sent => "client",
                        Direction::Received => "router",
                    };
                    sink.line(&format!(
                        "# the {who}'s bytes stopped framing ({error}); its later sentences are not recorded"
                    ));
                    *broken = true;
                    return;
                }
            }
        }
    }
}

impl Sink {
    /// A new transcript on `out`: its header written.
    pub(super) fn shared(out: Box<dyn Write + Send>) -> Arc<Mutex<Self>> {
        let mut sink = Sink {
            out,
            start: Instant::now(),
            error: None,
            salt: sealed::fresh_salt(),
        };
        sink.line(TRANSCRIPT_HEADER);
        Arc::new(Mutex::new(sink))
    }

    /// Marks the start of the `number`-th connection (its open commands
    /// are its recorder's own).
    pub(super) fn new_connection(&mut self, number: u64) {
        self.line(&format!("{CONNECTION_MARKER}{number}"));
    }

    /// The entry of `sentence`: secrets redacted by its command's menu, a
    /// `/login` secret sealed ([`sealed`]).
    fn entry(
        &mut self,
        commands: &mut OpenCommands,
        direction: Direction,
        offset: Duration,
        sentence: &Sentence,
    ) -> Entry {
        let head = sentence.words().next().unwrap_or_default();
        let tag = sentence.words().find_map(|w| w.strip_prefix(b".tag="));
        match direction {
            Direction::Sent => {
                let mut entry = Entry::for_command(direction, offset, sentence, None);
                if head == b"/login" {
                    self.seal_login(sentence, &mut entry);
                }
                if head != b"/cancel" {
                    let open = Open {
                        path: head.to_vec(),
                        secret_ret: secrets::ret_is_secret(
                            sentence.words().filter(|w| !w.starts_with(b".tag=")),
                        ),
                    };
                    match tag {
                        Some(tag) => {
                            commands.paths.insert(tag.to_vec(), open);
                        }
                        None => commands.untagged.push_back(open),
                    }
                }
                entry
            }
            Direction::Received => {
                let path = match tag {
                    Some(tag) => commands.paths.get(tag),
                    None => commands.untagged.front(),
                };
                let mut entry =
                    Entry::for_command(direction, offset, sentence, path.map(|o| &o.path[..]));
                if path.is_some_and(|o| o.secret_ret) {
                    for word in &mut entry.words {
                        if word.starts_with(b"=ret=") {
                            word.fill(0);
                            *word = [&b"=ret="[..], secrets::REDACTED].concat();
                        }
                    }
                }
                if head == b"!done" {
                    match tag {
                        Some(tag) => {
                            commands.paths.remove(tag);
                        }
                        None => {
                            commands.untagged.pop_front();
                        }
                    }
                }
                entry
            }
        }
    }

    /// Keeps the `/login` password (or challenge response) as a salted hash,
    /// so replay can refuse a wrong one.
    fn seal_login(&self, sentence: &Sentence, entry: &mut Entry) {
        for key in [&b"password"[..], b"response"] {
            let Some(secret) = sentence
                .words()
                .find_map(|w| w.strip_prefix(b"=")?.strip_prefix(key)?.strip_prefix(b"="))
            else {
                continue;
            };
            let sealed = sealed::seal(&self.salt, secret);
            for word in entry.words.iter_mut().skip(1) {
                let Some(rest) = word.strip_prefix(b"=").and_then(|w| w.strip_prefix(key)) else {
                    continue;
                };
                if rest.first() == Some(&b'=') {
                    let mut kept = Vec::with_capacity(key.len() + 2 + sealed.len());
                    kept.push(b'=');
                    kept.extend_from_slice(key);
                    kept.push(b'=');
                    kept.extend_from_slice(sealed.as_bytes());
                    *word = kept;
                }
            }
        }
    }

    fn line(&mut self, line: &str) {
        if self.error.is_some() {
            return;
        }
        let written = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorder<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.take_error() {
            return Poll::Ready(Err(error));
        }
        let this = &mut *self;
        let n = match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        this.record(Direction::Received, &buf[..n]);
        Poll::Ready(Ok(n))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorder<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.take_error() {
            return Poll::Ready(Err(error));
        }
        let this = &mut *self;
        let n = match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        this.record(Direction::Sent, &buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// The comment line that starts each connection of a [`Recording`]
/// (followed by its number, from 1): replay reads it as a comment.
///
/// [`Recording`]: super::Recording
pub const CONNECTION_MARKER: &str = "# connection ";

/// An in-memory transcript a [`Recorder`] writes to; clones share it.
#[derive(Debug, Clone, Default)]
pub struct TranscriptBuffer(Arc<Mutex<Vec<u8>>>);

impl TranscriptBuffer {
    /// The text written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }

    /// The text written so far, parsed (named `name`).
    pub fn transcript(&self, name: &str) -> Result<Transcript, TranscriptError> {
        Transcript::parse(name, &self.text())
    }
}

impl Write for TranscriptBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;
    use crate::protocol::encode_sentence;

    /// A stream whose reads come from `input` and whose writes are kept.
    struct Fake {
        input: Vec<u8>,
        output: Vec<u8>,
    }

    impl AsyncRead for Fake {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input.drain(..n);
            Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Fake {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            // Takes at most 3 bytes a call: sentences arrive in pieces.
            let n = buf.len().min(3);
            self.output.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn wire(sentences: &[&[&str]]) -> Vec<u8> {
        let mut out = Vec::new();
        for words in sentences {
            encode_sentence(words.iter(), &mut out);
        }
        out
    }

    fn write_all(recorder: &mut Recorder<Fake>, mut bytes: &[u8]) -> io::Result<()> {
        let mut cx = Context::from_waker(Waker::noop());
        while !bytes.is_empty() {
            match Pin::new(&mut *recorder).poll_write(&mut cx, bytes) {
                Poll::Ready(Ok(n)) => bytes = &bytes[n..],
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => unreachable!("the fake is always ready"),
            }
        }
        Ok(())
    }

    fn read_all(recorder: &mut Recorder<Fake>) -> io::Result<Vec<u8>> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut all = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            match Pin::new(&mut *recorder).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(0)) => return Ok(all),
                Poll::Ready(Ok(n)) => all.extend_from_slice(&buf[..n]),
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => unreachable!("the fake is always ready"),
            }
        }
    }

    /// Two connections recording into one transcript at once (one
    /// `Recording` shared by several devices, e.g. a fleet's builder): a
    /// secret read back on the first stays redacted although the second
    /// started meanwhile and uses the same tag.
    #[test]
    fn a_secret_read_back_stays_redacted_while_another_connection_records() {
        let buffer = TranscriptBuffer::default();
        let sink = Sink::shared(Box::new(buffer.clone()));
        lock(&sink).new_connection(1);
        let mut first = Recorder::joining(
            Fake {
                input: wire(&[&["!done", "=ret=hunter2", ".tag=1"]]),
                output: Vec::new(),
            },
            Arc::clone(&sink),
        );
        let get = wire(&[&[
            "/ppp/secret/get",
            "=number=vpn",
            "=value-name=password",
            ".tag=1",
        ]]);
        write_all(&mut first, &get).unwrap();
        lock(&sink).new_connection(2);
        let mut second = Recorder::joining(
            Fake {
                input: Vec::new(),
                output: Vec::new(),
            },
            Arc::clone(&sink),
        );
        write_all(&mut second, &wire(&[&["/system/identity/print", ".tag=1"]])).unwrap();
        read_all(&mut first).unwrap();
        let text = buffer.text();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("=ret="), "{text}");
    }

    #[test]
    fn both_directions_pass_untouched_and_are_recorded() {
        let replies = wire(&[&["!done", ".tag=1"], &["!re", "=name=x", ".tag=2"]]);
        let fake = Fake {
            input: replies.clone(),
            output: Vec::new(),
        };
        let (mut recorder, buffer) = Recorder::in_memory(fake);
        let sent = wire(&[&["/login", "=name=admin", "=password=pw", ".tag=1"]]);
        write_all(&mut recorder, &sent).unwrap();
        assert_eq!(read_all(&mut recorder).unwrap(), replies);
        assert_eq!(recorder.into_inner().output, sent);
        let transcript = buffer.transcript("t").unwrap();
        let lines: Vec<String> = transcript
            .entries
            .iter()
            .map(|e| {
                let line = e.to_string();
                // Drop the time column: "> 0.000 1 …" -> "> 1 …".
                let (arrow, rest) = line.split_once(' ').unwrap();
                format!("{arrow} {}", rest.split_once(' ').unwrap().1)
            })
            .collect();
        // The login's password is kept as a salted hash only.
        let (login, sealed) = lines[0].split_once("=password=").unwrap();
        assert_eq!(login, "> 1 /login =name=admin ");
        assert!(sealed.starts_with("<redacted:md5x10000:"), "{sealed}");
        assert_eq!(super::sealed::check(sealed.as_bytes(), b"pw"), Some(true));
        assert_eq!(lines[1..], ["< 1 !done", "< 2 !re =name=x"]);
        assert!(!buffer.text().contains("pw"));
        assert!(buffer.text().starts_with(TRANSCRIPT_HEADER));
    }

    #[test]
    fn bytes_that_stop_framing_are_noted_and_still_pass() {
        let mut garbage = wire(&[&["!done"]]);
        garbage.extend_from_slice(&[0xF8, 1, 2, 3]);
        let fake = Fake {
            input: garbage.clone(),
            output: Vec::new(),
        };
        let (mut recorder, buffer) = Recorder::in_memory(fake);
        assert_eq!(read_all(&mut recorder).unwrap(), garbage);
        let text = buffer.text();
        assert!(text.contains("< 0."), "{text}");
        assert!(
            text.contains("# the router's bytes stopped framing"),
            "{text}"
        );
        // The comment is a comment: the transcript still parses.
        assert_eq!(buffer.transcript("t").unwrap().entries.len(), 1);
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_transcript_that_cannot_be_written_fails_the_stream() {
        let fake = Fake {
            input: Vec::new(),
            output: Vec::new(),
        };
        let mut recorder = Recorder::new(fake, Broken);
        for _ in 0..2 {
            let error = write_all(&mut recorder, b"\x00").unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::StorageFull);
            assert!(
                error
                    .to_string()
                    .contains("the transcript could not be written")
            );
            let error = read_all(&mut recorder).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        }
    }
}
