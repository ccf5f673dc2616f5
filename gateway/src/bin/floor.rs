//! The floor under `mikrotik-gateway`: the same smol program shape (connect,
//! write, read until the peer closes, print) with no RouterOS client in it.
//! What the gateway binary weighs above this is the crate's share.

use std::io::Write;

use smol::io::{AsyncReadExt, AsyncWriteExt};

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        let address = std::env::args()
            .nth(1)
            .unwrap_or_else(|| "127.0.0.1:8728".into());
        let mut stream = smol::net::TcpStream::connect(address.as_str()).await?;
        stream.write_all(b"\x06/login\x00").await?;
        let mut buffer = vec![0u8; 4096];
        let read = stream.read(&mut buffer).await?;
        std::io::stdout().write_all(&buffer[..read])?;
        Ok(())
    })
}
