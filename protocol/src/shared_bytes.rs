//! A range of one buffer that several sentences share.
//!
//! The sentences of one command that the actor decodes back to back from one
//! read (up to its reply budget) are copied out of the read buffer into one
//! allocation together, each keeping its own range of it: one allocation and
//! one free per run of rows instead of per row. A run never mixes commands,
//! so a reply kept alive (queued unread, say) keeps alive only replies of its
//! own command, which that command's buffer accounting counts, and never the
//! read buffer.

use alloc::sync::Arc;
use core::ops::{Deref, Range};

/// Bytes `buf[range]`, compared as those bytes alone.
#[derive(Clone, Default)]
pub(crate) struct SharedBytes {
    buf: Arc<[u8]>,
    /// Always within `buf`.
    range: Range<usize>,
}

impl SharedBytes {
    /// `range` of `buf`.
    ///
    /// # Panics
    /// If `range` is not within `buf` (a bug of the decoder).
    pub(crate) fn new(buf: &Arc<[u8]>, range: Range<usize>) -> Self {
        assert!(range.start <= range.end && range.end <= buf.len());
        Self {
            buf: Arc::clone(buf),
            range,
        }
    }
}

impl From<Arc<[u8]>> for SharedBytes {
    /// The whole of `buf`.
    fn from(buf: Arc<[u8]>) -> Self {
        let range = 0..buf.len();
        Self { buf, range }
    }
}

impl Deref for SharedBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // In bounds by construction, so this never panics.
        &self.buf[self.range.clone()]
    }
}

impl PartialEq for SharedBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SharedBytes {}

impl core::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "b\"{}\"", self.escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_reads_compares_and_outlives_its_neighbours_alone() {
        let buf: Arc<[u8]> = Arc::from(&b"abcdef"[..]);
        let left = SharedBytes::new(&buf, 0..3);
        let right = SharedBytes::new(&buf, 3..6);
        drop(buf);
        assert_eq!(&*left, b"abc");
        assert_eq!(&*right, b"def");
        assert_ne!(left, right);
        assert_eq!(left, SharedBytes::from(Arc::from(&b"abc"[..])));
        drop(left);
        assert_eq!(&*right.clone(), b"def");
        assert!(SharedBytes::default().is_empty());
    }

    #[test]
    #[should_panic]
    fn a_range_beyond_the_buffer_is_refused() {
        let buf: Arc<[u8]> = Arc::from(&b"ab"[..]);
        let _ = SharedBytes::new(&buf, 1..3);
    }
}
