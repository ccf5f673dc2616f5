//! The everyday API: run a command to its end, read rows into structs, change
//! a menu's items, and watch a menu for changes.
//!
//! Built on [`MikrotikDevice::send_command`](crate::MikrotikDevice::send_command)
//! and its [`ResponseStream`](crate::ResponseStream); use those directly for
//! anything these helpers do not cover.
//!
//! | what | how |
//! |---|---|
//! | rows and `=ret=` of any command | [`MikrotikDevice::collect`](crate::MikrotikDevice::collect) → [`Collected`] |
//! | only the `=ret=` | [`MikrotikDevice::run`](crate::MikrotikDevice::run) |
//! | rows into your structs (feature `serde`) | `MikrotikDevice::collect_typed`, `Print::collect_typed` (a `Vec`); `Rows::typed`, `Changes::typed` (streams); `from_reply` |
//! | print / add / set / remove on a menu | [`MikrotikDevice::menu`](crate::MikrotikDevice::menu) → [`Menu`] |
//! | changes of a menu | [`Menu::listen`], [`Print::follow`], [`Print::follow_only`] → [`Changes`] of [`Change`] |
//! | all rows of a menu's print, in a `Vec` | [`Print::collect`] |
//! | the one row of `/system/resource`, `/system/identity`… | [`Print::one`], `Print::one_typed` (feature `serde`) |
//! | a monitor (`/interface/ethernet/monitor`…), keeping the latest rows | [`Menu::monitor`] → [`Rows`] |
//! | only the rows of any streaming command | [`ResponseStream::rows`](crate::ResponseStream::rows) → [`Rows`] (`Rows::typed`, feature `serde`) |
//! | RouterOS durations (`1w2d3h`, `14ms612us`, `00:01:02`) | [`parse_duration`], [`RouterOsDuration`] |
//!
//! Errors: a `!trap` becomes [`Error::Trap`](crate::Error::Trap) carrying every
//! trap of the command (category and message) and the command's path; a value
//! that does not decode becomes [`Error::Decode`](crate::Error::Decode) naming
//! the key, the value and the row's `.id`.
//!
//! Cancel safety: `recv()` of [`ResponseStream`](crate::ResponseStream),
//! [`Rows`] and [`Changes`] (and their `Stream::poll_next`) is cancel-safe: a
//! reply is taken from the command's buffer only by the poll that returns it,
//! so a `recv()` dropped in a `select!` loses nothing. The futures of
//! [`collect`](crate::MikrotikDevice::collect), [`Menu`] operations and
//! [`Print`] are not: dropping one cancels its command on the router.
//!
//! ```no_run
//! # #[cfg(feature = "serde")]
//! # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
//! use mikrotik_rs::api::RouterOsDuration;
//!
//! #[derive(serde::Deserialize)]
//! struct Resource {
//!     uptime: RouterOsDuration,
//!     cpu_load: u8,
//!     board_name: String,
//! }
//! let [resource] = &device.menu("/system/resource").print().collect_typed::<Resource>().await?[..] else {
//!     unreachable!("one row")
//! };
//! println!("{} up {}", resource.board_name, resource.uptime);
//! # Ok(()) }
//! ```

mod changes;
mod collect;
#[cfg(feature = "serde")]
mod de;
pub mod duration;
mod menu;
#[cfg(not(feature = "serde"))]
mod needs_serde;
mod property;
mod rows;
mod text;

pub use changes::{Change, Changes, Resync};
pub use collect::Collected;
#[cfg(feature = "serde")]
pub use de::{from_attributes, from_attributes_with, from_reply, from_reply_with};
pub use duration::{ParseDurationError, RouterOsDuration, parse_duration};
/// The encoding library behind [`TextPolicy::Fallback`] (feature `encoding`),
/// for its code pages: `api::encoding_rs::WINDOWS_1252`.
#[cfg(feature = "encoding")]
pub use encoding_rs;
pub use menu::{MONITOR_KEEP_LATEST, Menu, Print};
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
pub use needs_serde::SerdeFeatureRequired;
pub use property::Property;
pub use rows::Rows;
pub use text::TextPolicy;
