//! SHA-256 fingerprints of certificates, for pinning.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::Error;

/// The SHA-256 fingerprint of a DER-encoded certificate.
///
/// Parses from 64 hex digits, upper or lower case, with or without `:`
/// (or space) separators, so both RouterOS's `fingerprint` (`3a4b…`) and
/// OpenSSL's `-fingerprint -sha256` output (`3A:4B:…`) work.
///
/// Displays as 64 lower-case hex digits, as RouterOS prints it; the alternate
/// form (`{:#}`) uses upper-case pairs separated by colons, as OpenSSL does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateFingerprint([u8; 32]);

impl CertificateFingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_certificate(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// A fingerprint from its 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for CertificateFingerprint {
    type Err = Error;

    /// Parses 64 hex digits; `:` and whitespace between them are ignored.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the text is not 32 bytes of hex.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| {
            Error::Config(format!(
                "invalid SHA-256 certificate fingerprint {text:?}: {why} (expected 64 hex \
                 digits, with or without colons)"
            ))
        };
        let mut digits = text
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .map(|c| {
                c.to_digit(16)
                    .map(|d| d as u8)
                    .ok_or_else(|| invalid(&format!("{c:?} is not a hex digit")))
            });
        let mut bytes = [0u8; 32];
        let mut count = 0usize;
        while let Some(high) = digits.next() {
            let high = high?;
            let low = digits
                .next()
                .ok_or_else(|| invalid("odd number of hex digits"))??;
            if count == bytes.len() {
                return Err(invalid("too many hex digits"));
            }
            bytes[count] = high << 4 | low;
            count += 1;
        }
        if count != bytes.len() {
            return Err(invalid(&format!("{} hex digits", count * 2)));
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if f.alternate() {
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{byte:02X}")?;
            } else {
                write!(f, "{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateFingerprint({self})")
    }
}
