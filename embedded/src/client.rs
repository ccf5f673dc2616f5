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
use crate::slot::{Delivered, Slot};

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
/// commands in flight and up to `QUEUE` unread replies queued per command.
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
    /// hundred bytes do; a sentence may be longer than it). `seed` seeds the
    /// generator of command tags: draw it from your board's random source, so
    /// tags differ between boots.
    pub fn new(io: T, buffer: &'buf mut [u8], seed: u64) -> Self {
        Self::with_limits(io, buffer, seed, DecoderLimits::default())
    }

    /// [`new`](Self::new) with the decoder's limits on words and sentences
    /// (lower them to what your memory allows: a longer sentence is refused
    /// before it is stored).
    pub fn with_limits(io: T, buffer: &'buf mut [u8], seed: u64, limits: DecoderLimits) -> Self {
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
        while let Some(reply) = self.recv(id).await? {
            match reply {
                CommandResponse::Trap(trap) => refused = Some(trap.message),
                CommandResponse::Done(done) => challenge = done.ret().map(ToString::to_string),
                _ => {}
            }
        }
        match refused {
            Some(message) => Err(Error::LoginRefused(message)),
            None => Ok(challenge),
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
        self.send_as(command, false).await
    }

    async fn send_as(
        &mut self,
        command: Command,
        discard: bool,
    ) -> Result<CommandId, Error<T::Error>> {
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
        self.slots[slot].occupy(tag, discard);
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
    /// `!done`) are dropped and its slot is free once they are in: don't
    /// [`recv`](Self::recv) it any more. Cancelling a command that has ended
    /// does nothing.
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
        // The `/cancel` needs a slot of its own for its `!done`: refuse before
        // anything changes if there is none.
        self.open()?;
        if self.slots.iter().all(|s| s.tag.is_some()) {
            return Err(Error::NoFreeSlot);
        }
        self.slots[id.slot].occupy(id.tag, true);
        let cancel = Command::cancel_with_tag(id.tag, Uuid::nil());
        self.send_as(cancel, true).await.map(|_| ())
    }

    /// Reads once from the socket and routes every whole sentence in what
    /// came. Frees the slots of discarded commands that have ended.
    async fn read_some(&mut self) -> Result<(), Error<T::Error>> {
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
            let slot = tag.and_then(|tag| self.slots.iter_mut().find(|s| s.tag == Some(tag)));
            match slot {
                Some(slot) => {
                    if slot.deliver(reply, is_done) == Delivered::Discarded
                        && slot.discard
                        && slot.finished
                    {
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
