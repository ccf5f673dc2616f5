//! The routers of a fleet: names and their builders, from any iterator or
//! from a CSV file (`name,address,user,password[,tls]`).

use std::collections::HashSet;
use std::sync::Arc;

use crate::{DeviceBuilder, Error, MikrotikDevice, Result};

/// Named routers, each with its own [`DeviceBuilder`] (address, credentials,
/// TLS, timeouts). Names are unique: they identify results and pick shards.
#[derive(Debug, Default)]
pub struct Inventory {
    routers: Vec<(Arc<str>, DeviceBuilder)>,
}

impl Inventory {
    /// The routers of `routers`; [`Error::Config`] for an empty or repeated name.
    pub fn new<N: Into<String>>(
        routers: impl IntoIterator<Item = (N, DeviceBuilder)>,
    ) -> Result<Self> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (name, builder) in routers {
            let name: String = name.into();
            if name.is_empty() {
                return Err(Error::Config(
                    "a router of the fleet has an empty name".into(),
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(Error::Config(format!(
                    "router name {name:?} appears twice in the fleet"
                )));
            }
            out.push((Arc::from(name), builder));
        }
        Ok(Self { routers: out })
    }

    /// Reads routers from CSV text, one a line:
    /// `name,address,user,password[,tls]`. Blank lines, lines starting with
    /// `#`, a byte-order mark, and a header (the first record, if its first
    /// field is `name`) are skipped. A field may be quoted (`"a,b"`, with
    /// `""` for a quote; parsed by `csv-core`). Fields are trimmed of
    /// surrounding spaces, except the password, which is taken exactly as
    /// written (`" pw "` is a password with spaces, as it would be on the
    /// builder).
    ///
    /// `tls` is empty, `no` or `plain` for the plain API; otherwise
    /// (features `tls` or `tls-aws-lc-rs`) `pin:<sha256 hex>` pins the
    /// router's certificate, `ca:<file>` trusts a CA from a PEM file, and
    /// `insecure` accepts any certificate.
    ///
    /// Errors name the line (an empty or repeated name too) and never quote
    /// a password.
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut routers = Vec::new();
        let mut lines = Vec::new();
        for (index, (line, fields)) in csv_records(text)?.into_iter().enumerate() {
            let at = |reason: &str| Error::Config(format!("CSV line {line}: {reason}"));
            if index == 0 && fields.first().is_some_and(|f| f.trim() == "name") {
                continue;
            }
            let [name, address, user, password, rest @ ..] = &fields[..] else {
                return Err(at("expected name,address,user,password[,tls]"));
            };
            if rest.len() > 1 {
                return Err(at("more than 5 fields"));
            }
            let name = name.trim();
            if name.is_empty() {
                return Err(at("empty router name"));
            }
            if let Some(first) = lines
                .iter()
                .position(|(seen, _): &(String, u64)| seen == name)
            {
                let first = lines[first].1;
                return Err(at(&format!(
                    "router name {name:?} appears twice (first on line {first})"
                )));
            }
            lines.push((name.to_owned(), line));
            let password = (!password.is_empty()).then_some(password.as_str());
            let builder =
                MikrotikDevice::builder(address.trim()).credentials(user.trim(), password);
            // A configuration error's reason, not its Display: that would
            // say "invalid configuration: " a second time.
            let builder =
                with_tls(builder, rest.first().map_or("", |s| s.trim())).map_err(|e| match e {
                    Error::Config(reason) => at(&reason),
                    other => at(&other.to_string()),
                })?;
            routers.push((name.to_owned(), builder));
        }
        Self::new(routers)
    }

    /// Changes every router's builder (e.g. to set the same timeouts on all).
    pub fn configure(mut self, mut f: impl FnMut(&str, DeviceBuilder) -> DeviceBuilder) -> Self {
        self.routers = self
            .routers
            .into_iter()
            .map(|(name, builder)| {
                let builder = f(&name, builder);
                (name, builder)
            })
            .collect();
        self
    }

    /// Keeps only the routers `keep` says yes to (by name).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.routers.retain(|(name, _)| keep(name));
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.routers.iter().map(|(name, _)| &**name)
    }

    /// How many routers.
    pub fn len(&self) -> usize {
        self.routers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routers.is_empty()
    }

    pub(crate) fn into_routers(self) -> Vec<(Arc<str>, DeviceBuilder)> {
        self.routers
    }
}

fn with_tls(builder: DeviceBuilder, tls: &str) -> Result<DeviceBuilder> {
    if matches!(tls, "" | "no" | "plain" | "false") {
        return Ok(builder);
    }
    #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
    {
        use crate::tls::TlsOptions;
        let options = if let Some(pin) = tls.strip_prefix("pin:") {
            TlsOptions::pinned_sha256(pin)?
        } else if let Some(path) = tls.strip_prefix("ca:") {
            let pem = std::fs::read(path)
                .map_err(|e| Error::Config(format!("cannot read CA file {path:?}: {e}")))?;
            TlsOptions::custom_ca_pem(pem)?
        } else if tls == "insecure" {
            TlsOptions::dangerous_accept_any_certificate()
        } else {
            return Err(Error::Config(format!(
                "tls {tls:?}: expected empty, `pin:<sha256>`, `ca:<file>` or `insecure`"
            )));
        };
        Ok(builder.tls(options))
    }
    #[cfg(not(any(feature = "tls", feature = "tls-aws-lc-rs")))]
    {
        let _ = builder;
        Err(Error::Config(format!(
            "tls {tls:?}: this build has no TLS (enable the `tls` feature)"
        )))
    }
}

/// The records of CSV text (after a byte-order mark; `#` comments and
/// blank lines skipped), each with the line it ends on.
fn csv_records(text: &str) -> Result<Vec<(u64, Vec<String>)>> {
    use csv_core::{ReadRecordResult, ReaderBuilder};
    let input = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
    let mut reader = ReaderBuilder::new().comment(Some(b'#')).build();
    // A record's fields never take more bytes than the text itself.
    let mut output = vec![0u8; input.len().max(1)];
    let mut ends = [0usize; 8];
    let (mut pos, mut start, mut used, mut fields) = (0, 0, 0, 0);
    let mut records = Vec::new();
    loop {
        // The ends csv-core gives count from the record's start, across
        // calls (a record the text ends without a newline takes two).
        let at_end = pos == input.len();
        let (result, read, wrote, ended) =
            reader.read_record(&input[pos..], &mut output[used..], &mut ends[fields..]);
        (pos, used, fields) = (pos + read, used + wrote, fields + ended);
        let line = line_of(input, pos);
        match result {
            // At the end of the text: the next call (with nothing) ends the record.
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                return Err(Error::Config(format!(
                    "CSV line {line}: more than 5 fields"
                )));
            }
            ReadRecordResult::Record => {
                // An open quote takes the rest of the text: only a record
                // the text's end ended can have one (a `"` inside an
                // unquoted field, as in `pa"ss`, is that character).
                if at_end && unclosed_quote(&input[start..pos]) {
                    return Err(Error::Config(format!("CSV line {line}: unclosed quote")));
                }
                let mut record = Vec::with_capacity(fields);
                let mut from = 0;
                for &end in &ends[..fields] {
                    let Some(bytes) = output.get(from..end) else {
                        return Err(Error::Config(format!("CSV line {line}: unreadable")));
                    };
                    let field = String::from_utf8_lossy(bytes).into_owned();
                    record.push(field);
                    from = end;
                }
                let blank = record.len() == 1 && record[0].trim().is_empty();
                if !blank {
                    records.push((line, record));
                }
                (start, used, fields) = (pos, 0, 0);
            }
            ReadRecordResult::End => return Ok(records),
        }
    }
}

/// The line (from 1) of the last byte before `pos`.
fn line_of(input: &[u8], pos: usize) -> u64 {
    let before = &input[..pos];
    let newlines = before.iter().filter(|&&b| b == b'\n').count() as u64;
    if before.ends_with(b"\n") {
        newlines
    } else {
        newlines + 1
    }
}

/// Whether a record's text (comment lines before it aside) leaves a quote open.
fn unclosed_quote(raw: &[u8]) -> bool {
    let quotes: usize = raw
        .split(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"#"))
        .map(|line| line.iter().filter(|&&b| b == b'"').count())
        .sum();
    quotes % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quotes_headers_and_comments() {
        let text = "name,address,user,password,tls\n\
                    # a comment\n\
                    \n\
                    core-1,10.0.0.1,admin,\"pa,ss\"\"word\"\n\
                    edge-2, 10.0.0.2:8728 ,api,,plain\n";
        let inventory = Inventory::from_csv(text).unwrap();
        assert_eq!(inventory.names().collect::<Vec<_>>(), ["core-1", "edge-2"]);
        let records = csv_records("a,\"pa,ss\"\"word\",\" pw \"\n").unwrap();
        assert_eq!(
            records,
            [(1, vec!["a".into(), "pa,ss\"word".into(), " pw ".into()])]
        );
        let error = Inventory::from_csv("a,b,c,\"open\n").unwrap_err();
        assert!(error.to_string().contains("unclosed quote"), "{error}");
    }

    #[test]
    fn a_quote_inside_a_field_or_a_hash_inside_quotes_is_text() {
        let records = csv_records("r1,a,u,pa\"ss\nr2,b,u,\"line\n#x\"\n").unwrap();
        assert_eq!(records[0].1[3], "pa\"ss");
        assert_eq!(records[1].1[3], "line\n#x");
        for open in [
            "r1,a,u,\"open\n",
            "r1,a,u,\"open\nr2,b,u,p\n",
            "r1,a,u,\"open",
        ] {
            let error = csv_records(open).unwrap_err();
            assert!(
                error.to_string().contains("unclosed quote"),
                "{open:?}: {error}"
            );
        }
    }

    #[test]
    fn the_last_line_needs_no_newline() {
        let records = csv_records("r1,a,u,p\nr2,b,u,x").unwrap();
        assert_eq!(
            records[1],
            (2, vec!["r2".into(), "b".into(), "u".into(), "x".into()])
        );
        let records = csv_records("r1,a,u,abcdefghijklmnop").unwrap();
        assert_eq!(records[0].1[3], "abcdefghijklmnop");
        let records = csv_records("r1,a,u,\"p\"\"w\"\r\nr2,b,u,\"q,w\"").unwrap();
        assert_eq!(records[0].1[3], "p\"w");
        assert_eq!(records[1].1[3], "q,w");
        let inventory = Inventory::from_csv("name,address,user,password\nr1,a,u,pw").unwrap();
        assert_eq!(inventory.names().collect::<Vec<_>>(), ["r1"]);
    }

    #[test]
    fn a_header_after_a_bom_or_a_comment_is_a_header() {
        for text in [
            "\u{feff}name,address,user,password\nr1,a,u,p\n",
            "# routers\nname,address,user,password\nr1,a,u,p\n",
        ] {
            let inventory = Inventory::from_csv(text).unwrap();
            assert_eq!(inventory.names().collect::<Vec<_>>(), ["r1"], "{text:?}");
        }
    }

    #[test]
    fn empty_and_repeated_names_name_their_line() {
        let error = Inventory::from_csv("r1,a,u,p\n,b,u,p\n").unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        let error = Inventory::from_csv("r1,a,u,p\n# c\nr2,a,u,p\nr1,b,u,p\n").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("line 4") && message.contains("line 1"),
            "{message}"
        );
    }

    #[test]
    fn bad_csv_names_the_line_and_never_the_password() {
        let error = Inventory::from_csv("r1,10.0.0.1,admin\n").unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        let error = Inventory::from_csv("r1,10.0.0.1,admin,hunter2,bogus\n").unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = Inventory::from_csv("r1,a,u,p\nr1,b,u,p\n").unwrap_err();
        assert!(error.to_string().contains("twice"), "{error}");
        let inventory = Inventory::from_csv("r1,a,u,hunter2\n").unwrap();
        assert!(!format!("{inventory:?}").contains("hunter2"));
    }
}
