//! The client loop: one owner, no background task. Whoever awaits
//! [`Client::recv`] reads the socket and routes each reply by tag into the
//! queue of the command it answers.

use alloc::string::{String, ToString};

use embedded_io_async::{Read, Write};
use mikrotik_rs_protocol::command::{Cmd, Command, CommandBuilder};
use mikrotik_rs_protocol::tag::Tags;
use mikrotik_rs_protocol::uuid::Uuid;
use mikrotik_rs_protocol::{CommandResponse, Decoder, DecoderLimits, login};

use crate::error::Error;
use crate::slot::Slot;

/// A command sent with [`Client::send`]: where [`Client::recv`] finds its
/// replies. Cheap to copy; once the command has ended it names nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandId {
    slot: usize,
    tag: Uuid,
}

impl CommandId {
    /// The command's tag on the wire.
    pub fn tag(&self) -> Uuid {
        self.tag
    }
}

/// Why the connection is over, kept for the calls after the one that saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Over,
}

/// A RouterOS API connection over the socket `T`, with up to `COMMANDS`
/// commands in flight and up to `QUEUE` unread replies queued per command
/// (at least one: a client without room for a reply does not build).
///
/// ```compile_fail
/// # struct Socket;
/// # impl embedded_io_async::ErrorType for Socket { type Error = core::convert::Infallible; }
/// # impl embedded_io_async::Read for Socket {
/// #     async fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> { Ok(0) }
/// # }
/// # impl embedded_io_async::Write for Socket {
/// #     async fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> { Ok(b.len()) }
/// #     async fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
/// # }
/// let mut buffer = [0u8; 64];
/// let _: mikrotik_rs_embedded::Client<_, 1, 0> =
///     mikrotik_rs_embedded::Client::new(Socket, &mut buffer, 1);
/// ```
///
/// ```no_run
/// # async fn demo<T: embedded_io_async::Read + embedded_io_async::Write>(
/// #     socket: T, seed_from_your_rng: u64,
/// # ) -> Result<(), mikrotik_rs_embedded::Error<T::Error>> {
/// use mikrotik_rs_embedded::Client;
/// use mikrotik_rs_embedded::protocol::CommandResponse;
///
/// let mut buffer = [0u8; 1024];
/// let mut client: Client<_, 4, 8> = Client::new(socket, &mut buffer, seed_from_your_rng);
/// client.login("admin", "").await?;
/// let command = client.command("/system/resource/print").build();
/// let id = client.send(command).await?;
/// while let Some(reply) = client.recv(id).await? {
///     if let CommandResponse::Reply(row) = reply {
///         let _uptime = row.get("uptime");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Client<'buf, T, const COMMANDS: usize, const QUEUE: usize> {
    io: T,
    buffer: &'buf mut [u8],
    decoder: Decoder,
    slots: [Slot<QUEUE>; COMMANDS],
    tags: Tags,
    state: State,
    stray: u32,
}

impl<'buf, T: Read + Write, const COMMANDS: usize, const QUEUE: usize>
    Client<'buf, T, COMMANDS, QUEUE>
{
    /// A client over a connected socket. `buffer` is where reads land (a few
    /// hundred bytes do; a sentence may be longer than it; an empty one makes
    /// every read fail with [`Error::EmptyBuffer`]). `seed` seeds the
    /// generator of command tags: draw it from your board's random source, so
    /// tags differ between boots.
    pub fn new(io: T, buffer: &'buf mut [u8], seed: u64) -> Self {
        Self::with_limits(io, buffer, seed, DecoderLimits::default())
    }

    /// [`new`](Self::new) with the decoder's limits on words and sentences
    /// (lower them to what your memory allows: a longer sentence is refused
    /// before it is stored).
    pub fn with_limits(io: T, buffer: &'buf mut [u8], seed: u64, limits: DecoderLimits) -> Self {
        // With no room for one reply every command (the login too) could only
        // overflow: refuse such a client when it is built, not at run time.
        const { assert!(QUEUE > 0, "a Client needs QUEUE >= 1") };
        Self {
            io,
            buffer,
            decoder: Decoder::new(limits),
            slots: core::array::from_fn(|_| Slot::free()),
            tags: Tags::from_seed(seed),
            state: State::Open,
            stray: 0,
        }
    }

    /// A command builder whose command will carry a fresh tag of this client.
    pub fn command(&mut self, path: &str) -> CommandBuilder<Cmd> {
        CommandBuilder::with_tag(self.tags.next_tag()).command(path)
    }

    /// Replies that arrived for no command in flight (after it ended), counted
    /// rather than dropped unseen.
    pub fn stray_replies(&self) -> u32 {
        self.stray
    }

    /// Commands in flight (slots in use).
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.tag.is_some()).count()
    }

    /// Logs in: the 6.43+ login, then the MD5 challenge if the router asks
    /// for it (it answers the first with `=ret=`).
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), Error<T::Error>> {
        let Some(challenge) = self.login_step(login::login(user, password)).await? else {
            return Ok(());
        };
        let second = login::legacy_login(user, password, &challenge).map_err(Error::Protocol)?;
        match self.login_step(second).await? {
            None => Ok(()),
            Some(_) => Err(Error::LoginRefused("a second challenge".to_string())),
        }
    }

    /// Sends one login sentence; `Some(challenge)` when the router answered
    /// with one.
    async fn login_step(&mut self, command: Command) -> Result<Option<String>, Error<T::Error>> {
        let id = self.send(command).await?;
        let mut challenge = None;
        let mut refused = None;
        let mut broken = None;
        loop {
            let reply = match self.recv(id).await {
                Ok(Some(reply)) => reply,
                Ok(None) => break,
                // A one-reply queue holds the trap and drops the `!done`
                // after it: the refusal is known, the end came.
                Err(Error::Overflow { .. }) if refused.is_some() => continue,
                // A broken reply of the login (the connection goes on): read
                // on to its `!done`, so that its slot is free again.
                Err(Error::Protocol(error)) if self.open().is_ok() => {
                    broken.get_or_insert(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            match reply {
                CommandResponse::Trap(trap) => refused = Some(trap.message),
                // A challenge that is not text is not "no challenge": kept
                // (lossily), the MD5 step refuses it as not hex.
                CommandResponse::Done(done) => {
                    challenge = done
                        .ret_raw()
                        .map(|raw| String::from_utf8_lossy(raw).into_owned());
                }
                _ => {}
            }
        }
        match (refused, broken) {
            (Some(message), _) => Err(Error::LoginRefused(message)),
            (None, Some(error)) => Err(Error::Protocol(error)),
            (None, None) => Ok(challenge),
        }
    }

    /// Sends `command` and returns where its replies will be found. The
    /// command goes out under a fresh tag of this client (see
    /// [`CommandId::tag`]), whatever tag it was built with.
    ///
    /// Fails with [`Error::NoFreeSlot`] when `COMMANDS` commands are in
    /// flight, and with [`Error::InvalidCommand`] for a command the builder
    /// refused; nothing is written then.
    pub async fn send(&mut self, command: Command) -> Result<CommandId, Error<T::Error>> {
        self.open()?;
        if let Some(reason) = command.invalid() {
            return Err(Error::InvalidCommand(reason.to_string()));
        }
        // Every command goes out under a tag of this client's generator: one
        // built without `std` carries the nil placeholder, and two commands
        // in flight must never share a tag.
        let command = command.retagged(self.tags.next_tag());
        let tag = command.tag();
        let slot = self
            .slots
            .iter()
            .position(|s| s.tag.is_none())
            .ok_or(Error::NoFreeSlot)?;
        self.slots[slot].occupy(tag);
        if let Err(error) = self.write(command.as_bytes()).await {
            self.slots[slot].release();
            return Err(error);
        }
        Ok(CommandId { slot, tag })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Error<T::Error>> {
        let written = match self.io.write_all(bytes).await {
            Ok(()) => self.io.flush().await,
            Err(error) => Err(error),
        };
        written.map_err(|error| self.lose(Error::Io(error)))
    }

    /// The next reply of command `id`, reading the socket (and routing other
    /// commands' replies to their queues) until one is there. `None` once the
    /// command's `!done` has been handed out (and for an id that has ended).
    ///
    /// A command whose queue overflowed yields what was queued, then
    /// [`Error::Overflow`] once, then `None` after its `!done`.
    pub async fn recv(
        &mut self,
        id: CommandId,
    ) -> Result<Option<CommandResponse>, Error<T::Error>> {
        loop {
            let Some(slot) = self
                .slots
                .get_mut(id.slot)
                .filter(|s| s.tag == Some(id.tag))
            else {
                return Ok(None);
            };
            if let Some(reply) = slot.pop() {
                if slot.is_spent() {
                    slot.release();
                }
                return reply.map(Some).map_err(Error::Protocol);
            }
            if let Some(dropped) = slot.take_overflow() {
                if slot.is_spent() {
                    slot.release();
                }
                return Err(Error::Overflow { dropped });
            }
            if slot.is_spent() {
                slot.release();
                return Ok(None);
            }
            if self.state == State::Over {
                self.slots[id.slot].release();
                return Err(Error::ConnectionLost);
            }
            self.read_some().await?;
        }
    }

    /// Cancels command `id`: sends `/cancel` for its tag. Replies still
    /// queued or still coming for it (the router's `interrupted` trap, its
    /// `!done`, and the `/cancel`'s own replies) are dropped, and its slot is
    /// free once they are in; [`recv`](Self::recv) on it yields nothing and
    /// returns `None` then. The `/cancel` needs no slot of its own.
    /// Cancelling a command that has ended (or was cancelled) does nothing
    /// more.
    pub async fn cancel(&mut self, id: CommandId) -> Result<(), Error<T::Error>> {
        let Some(slot) = self
            .slots
            .get_mut(id.slot)
            .filter(|s| s.tag == Some(id.tag))
        else {
            return Ok(());
        };
        if slot.finished {
            slot.release();
            return Ok(());
        }
        if slot.cancel_tag.is_some() {
            // Cancelled before: its `/cancel` is on the way.
            return Ok(());
        }
        self.open()?;
        // The `/cancel`'s replies go to the cancelled command's slot (and are
        // dropped there): cancelling never needs a free slot.
        let cancel = Command::cancel_with_tag(id.tag, Uuid::nil()).retagged(self.tags.next_tag());
        self.slots[id.slot].cancel(cancel.tag());
        self.write(cancel.as_bytes()).await
    }

    /// Reads once from the socket and routes every whole sentence in what
    /// came. Frees the slots of discarded commands that have ended.
    async fn read_some(&mut self) -> Result<(), Error<T::Error>> {
        // A read into nothing returns 0, which means "closed": say what is
        // wrong instead of ending a connection the router kept open.
        if self.buffer.is_empty() {
            return Err(Error::EmptyBuffer);
        }
        let read = match self.io.read(self.buffer).await {
            Ok(0) => return Err(self.lose(Error::ConnectionClosed)),
            Ok(read) => read,
            Err(error) => return Err(self.lose(Error::Io(error))),
        };
        let mut input = &self.buffer[..read];
        loop {
            let sentence = match self.decoder.decode(&mut input) {
                Ok(Some(sentence)) => sentence,
                Ok(None) => return Ok(()),
                // Framing lost: nothing after this can be read.
                Err(error) => return Err(self.lose(Error::Protocol(error))),
            };
            let (tag, reply) = match CommandResponse::parse(sentence) {
                Ok(CommandResponse::Fatal(reason)) => return Err(self.lose(Error::Fatal(reason))),
                Ok(reply) => (reply.tag(), Ok(reply)),
                Err(invalid) => match invalid.tag {
                    Some(tag) => (Some(tag), Err(invalid.error)),
                    // No command to give it to: the connection cannot be trusted.
                    None => return Err(self.lose(Error::Protocol(invalid.error))),
                },
            };
            let is_done = matches!(reply, Ok(CommandResponse::Done(_)));
            let found = tag.and_then(|tag| {
                self.slots
                    .iter_mut()
                    .find(|s| s.takes(tag))
                    .map(|slot| (slot, tag))
            });
            match found {
                Some((slot, tag)) => {
                    if slot.tag == Some(tag) {
                        slot.deliver(reply, is_done);
                    } else {
                        slot.deliver_to_cancel(is_done);
                    }
                    if slot.is_cancelled_and_over() {
                        slot.release();
                    }
                }
                None => self.stray = self.stray.saturating_add(1),
            }
        }
    }

    /// Marks the connection over; `error` goes to the caller that saw it.
    fn lose(&mut self, error: Error<T::Error>) -> Error<T::Error> {
        self.state = State::Over;
        error
    }

    fn open(&self) -> Result<(), Error<T::Error>> {
        match self.state {
            State::Open => Ok(()),
            State::Over => Err(Error::ConnectionLost),
        }
    }

    /// The socket back, e.g. to close it.
    pub fn into_inner(self) -> T {
        self.io
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::convert::Infallible;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    use mikrotik_rs_protocol::ProtocolError;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// What the scripted router will answer, and what the client wrote.
    #[derive(Default)]
    struct Wire {
        chunks: VecDeque<Vec<u8>>,
        written: Vec<u8>,
        /// Answers to the next writes, one chunk each, `TAG` standing for the
        /// tag of the sentence written.
        answers: VecDeque<Vec<Vec<&'static str>>>,
    }

    /// A socket whose reads hand out scripted chunks (then "closed").
    #[derive(Clone, Default)]
    struct Scripted(Rc<RefCell<Wire>>);

    impl Scripted {
        fn answer(&self, words: &[&str]) {
            let mut out = Vec::new();
            mikrotik_rs_protocol::encode_sentence(words, &mut out);
            self.0.borrow_mut().chunks.push_back(out);
        }

        /// The `.tag=` of the last sentence written.
        fn last_tag_written(&self) -> std::string::String {
            let wire = self.0.borrow();
            let text = std::string::String::from_utf8_lossy(&wire.written);
            let at = text.rfind(".tag=").unwrap();
            std::format!(".tag={}", &text[at + 5..at + 5 + 36])
        }
    }

    impl embedded_io_async::ErrorType for Scripted {
        type Error = Infallible;
    }

    impl Read for Scripted {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
            let mut wire = self.0.borrow_mut();
            let Some(chunk) = wire.chunks.front_mut() else {
                return Ok(0);
            };
            let n = buf.len().min(chunk.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                wire.chunks.pop_front();
            }
            Ok(n)
        }
    }

    impl Write for Scripted {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
            self.0.borrow_mut().written.extend_from_slice(buf);
            let next = self.0.borrow_mut().answers.pop_front();
            if let Some(sentences) = next {
                let tag = self.last_tag_written();
                let mut chunk = Vec::new();
                for words in sentences {
                    let words = words.iter().map(|w| match *w {
                        "TAG" => tag.as_bytes().to_vec(),
                        "BADRET" => b"=ret=\xff\xfe".to_vec(),
                        w => w.as_bytes().to_vec(),
                    });
                    mikrotik_rs_protocol::encode_sentence(words, &mut chunk);
                }
                self.0.borrow_mut().chunks.push_back(chunk);
            }
            Ok(buf.len())
        }

        async fn flush(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
    }

    /// The scripted socket never waits: poll to the end, boundedly.
    fn block_on<F: core::future::Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..10_000 {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
        panic!("the future did not finish");
    }

    fn tag_word(id: CommandId) -> std::string::String {
        std::format!(".tag={}", id.tag())
    }

    fn print<const C: usize, const Q: usize>(client: &mut Client<'_, Scripted, C, Q>) -> CommandId {
        let command = client.command("/interface/print").build();
        block_on(client.send(command)).unwrap()
    }

    #[test]
    fn an_empty_buffer_is_not_mistaken_for_a_closed_connection() {
        let socket = Scripted::default();
        socket.answer(&["!done"]);
        let mut buffer = [0u8; 0];
        let mut client: Client<_, 2, 2> = Client::new(socket, &mut buffer, 7);
        let result = block_on(client.login("admin", ""));
        assert_eq!(result, Err(Error::EmptyBuffer), "the router closed nothing");
        assert!(
            client.open().is_ok(),
            "the connection is not marked lost by the caller's mistake"
        );
    }

    #[test]
    fn a_late_reply_of_a_cancelled_command_never_reaches_the_next_one_in_its_slot() {
        let socket = Scripted::default();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket.clone(), &mut buffer, 7);
        let cancelled = print(&mut client);
        block_on(client.cancel(cancelled)).unwrap();
        let cancel_tag = socket.last_tag_written();
        let a = tag_word(cancelled);
        socket.answer(&["!re", &a, "=name=before"]);
        socket.answer(&["!trap", &a, "=category=2", "=message=interrupted"]);
        socket.answer(&["!done", &a]);
        socket.answer(&["!done", &cancel_tag]);
        assert_eq!(block_on(client.recv(cancelled)).unwrap(), None);
        let next = print(&mut client);
        assert_eq!(next.slot, cancelled.slot, "the slot is reused");
        let b = tag_word(next);
        socket.answer(&["!re", &a, "=name=late"]);
        socket.answer(&["!re", &b, "=name=mine"]);
        socket.answer(&["!done", &b]);
        let first = block_on(client.recv(next)).unwrap();
        assert!(
            matches!(&first, Some(CommandResponse::Reply(row)) if row.get("name") == Some("mine")),
            "{first:?}"
        );
        assert!(matches!(
            block_on(client.recv(next)).unwrap(),
            Some(CommandResponse::Done(_))
        ));
        assert_eq!(block_on(client.recv(next)).unwrap(), None);
        assert_eq!(client.stray_replies(), 1);
        assert_eq!(client.in_flight(), 0);
    }

    fn client_command<const C: usize, const Q: usize>(
        client: &mut Client<'_, Scripted, C, Q>,
    ) -> Command {
        client.command("/system/resource/print").build()
    }

    #[test]
    fn a_sentence_longer_than_the_buffer_and_a_done_with_ret_arrive_whole() {
        let socket = Scripted::default();
        let mut buffer = [0u8; 1];
        let mut client: Client<_, 1, 1> = Client::new(socket.clone(), &mut buffer, 9);
        let id = print(&mut client);
        let long = std::format!("=ret={}", "x".repeat(300));
        socket.answer(&["!done", &tag_word(id), &long]);
        let done = block_on(client.recv(id)).unwrap();
        assert!(
            matches!(&done, Some(CommandResponse::Done(d)) if d.ret().map(str::len) == Some(300)),
            "{done:?}"
        );
        assert_eq!(block_on(client.recv(id)).unwrap(), None);
    }

    #[test]
    fn a_cut_mid_sentence_ends_every_command_and_a_full_queue_reports_its_dropped_done() {
        let socket = Scripted::default();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 1> = Client::new(socket.clone(), &mut buffer, 11);
        let a = print(&mut client);
        let b = print(&mut client);
        let mut both = Vec::new();
        mikrotik_rs_protocol::encode_sentence(["!re", &tag_word(a), "=name=x"], &mut both);
        mikrotik_rs_protocol::encode_sentence(["!done", &tag_word(a)], &mut both);
        socket.0.borrow_mut().chunks.push_back(both);
        let mut cut = Vec::new();
        mikrotik_rs_protocol::encode_sentence(["!re", &tag_word(b), "=name=y"], &mut cut);
        cut.truncate(cut.len() - 4);
        socket.0.borrow_mut().chunks.push_back(cut);
        assert!(matches!(
            block_on(client.recv(a)),
            Ok(Some(CommandResponse::Reply(_)))
        ));
        assert_eq!(
            block_on(client.recv(a)),
            Err(Error::Overflow { dropped: 1 })
        );
        assert_eq!(block_on(client.recv(a)), Ok(None));
        assert_eq!(block_on(client.recv(b)), Err(Error::ConnectionClosed));
        assert_eq!(block_on(client.recv(b)), Err(Error::ConnectionLost));
        assert_eq!(block_on(client.recv(b)), Ok(None));
        assert!(matches!(
            {
                let command = client_command(&mut client);
                block_on(client.send(command))
            },
            Err(Error::ConnectionLost)
        ));
    }

    #[test]
    fn a_refused_login_is_refused_even_when_its_done_overflows_a_one_reply_queue() {
        let socket = Scripted::default();
        socket.0.borrow_mut().answers.push_back(std::vec![
            std::vec!["!trap", "TAG", "=message=invalid user name or password (6)"],
            std::vec!["!done", "TAG"],
        ]);
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 1, 1> = Client::new(socket, &mut buffer, 13);
        assert_eq!(
            block_on(client.login("admin", "wrong")),
            Err(Error::LoginRefused(
                "invalid user name or password (6)".into()
            ))
        );
        assert_eq!(client.in_flight(), 0, "the login's slot is free again");
    }

    #[test]
    fn a_client_with_one_slot_can_cancel_its_command() {
        let socket = Scripted::default();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 1, 2> = Client::new(socket.clone(), &mut buffer, 17);
        let listen = print(&mut client);
        assert_eq!(block_on(client.cancel(listen)), Ok(()));
        let cancel_tag = socket.last_tag_written();
        let a = tag_word(listen);
        socket.answer(&["!re", &a, "=name=x"]);
        socket.answer(&["!trap", &a, "=category=2", "=message=interrupted"]);
        socket.answer(&["!done", &a]);
        socket.answer(&["!done", &cancel_tag]);
        // Receiving a cancelled command waits for its end and yields nothing.
        assert_eq!(block_on(client.recv(listen)), Ok(None));
        assert_eq!(client.in_flight(), 0);
        assert_eq!(
            client.stray_replies(),
            0,
            "the cancel's own !done was expected"
        );
        let next = print(&mut client);
        socket.answer(&["!done", &tag_word(next)]);
        assert!(matches!(
            block_on(client.recv(next)),
            Ok(Some(CommandResponse::Done(_)))
        ));
    }

    #[test]
    fn a_challenge_that_is_not_text_is_refused_not_taken_for_a_login() {
        let socket = Scripted::default();
        socket
            .0
            .borrow_mut()
            .answers
            .push_back(std::vec![std::vec!["!done", "TAG", "BADRET"]]);
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 1, 2> = Client::new(socket, &mut buffer, 19);
        let result = block_on(client.login("admin", "secret"));
        assert!(
            matches!(
                result,
                Err(Error::Protocol(ProtocolError::InvalidChallenge(_)))
            ),
            "{result:?}"
        );
    }

    #[test]
    fn a_login_answered_with_a_broken_reply_fails_and_frees_its_slot() {
        let socket = Scripted::default();
        socket.0.borrow_mut().answers.push_back(std::vec![
            std::vec!["!weird", "TAG"],
            std::vec!["!done", "TAG"],
        ]);
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 1, 2> = Client::new(socket, &mut buffer, 23);
        let result = block_on(client.login("admin", ""));
        assert!(
            matches!(
                result,
                Err(Error::Protocol(ProtocolError::UnknownReplyWord(_)))
            ),
            "{result:?}"
        );
        assert_eq!(client.in_flight(), 0, "nothing else would ever free it");
    }
}
