//! A crate without `std` that uses the protocol core and the embedded client
//! loop: decodes a reply, builds a login and a command, and drives a
//! [`Client`] over a scripted socket to the end of a command.

#![no_std]

extern crate alloc;

use core::convert::Infallible;
use core::future::Future;
use core::panic::PanicInfo;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use mikrotik_rs_embedded::Client;
use mikrotik_rs_embedded::protocol::{CommandResponse, Decoder, encode_sentence, login};
use talc::locking::AssumeUnlockable;
use talc::{ErrOnOom, Talc, Talck};

/// The allocator of a board with no heap given to it yet: enough to link.
#[global_allocator]
static ALLOCATOR: Talck<AssumeUnlockable, ErrOnOom> = Talc::new(ErrOnOom).lock();

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {}
}

/// A socket that answers every read with the same scripted bytes.
pub struct Scripted<'a> {
    reply: &'a [u8],
    written: usize,
}

impl embedded_io_async::ErrorType for Scripted<'_> {
    type Error = Infallible;
}

impl embedded_io_async::Read for Scripted<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.reply.len());
        buf[..n].copy_from_slice(&self.reply[..n]);
        self.reply = &self.reply[n..];
        Ok(n)
    }
}

impl embedded_io_async::Write for Scripted<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.written += buf.len();
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Polls `future` until it is ready (the scripted socket never waits).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// Decodes `wire` and counts the replies: the core alone.
pub fn count_replies(wire: &[u8]) -> usize {
    let mut decoder = Decoder::default();
    let mut input = wire;
    let mut replies = 0;
    while let Ok(Some(sentence)) = decoder.decode(&mut input) {
        replies += usize::from(CommandResponse::parse(sentence).is_ok());
    }
    replies + login::login("admin", "").as_bytes().len()
}

/// A client over a socket that only ever says `!done`: the embedded loop.
pub fn run_client(seed: u64) -> bool {
    let mut reply = alloc::vec::Vec::new();
    encode_sentence(["!done"], &mut reply);
    let mut buffer = [0u8; 64];
    let socket = Scripted {
        reply: &reply,
        written: 0,
    };
    let mut client: Client<_, 2, 2> = Client::new(socket, &mut buffer, seed);
    block_on(async {
        let command = client.command("/system/resource/print").build();
        client.send(command).await.is_ok()
    })
}
