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
    /// `#`, and a first line starting with `name,` (a header) are skipped.
    /// A field may be quoted (`"a,b"`, with `""` for a quote).
    ///
    /// `tls` is empty, `no` or `plain` for the plain API; otherwise
    /// (features `tls` or `tls-aws-lc-rs`) `pin:<sha256 hex>` pins the
    /// router's certificate, `ca:<file>` trusts a CA from a PEM file, and
    /// `insecure` accepts any certificate.
    ///
    /// Errors name the line and never quote a password.
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut routers = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty()
                || line.starts_with('#')
                || (number == 0 && line.starts_with("name,"))
            {
                continue;
            }
            let at = |reason: &str| Error::Config(format!("CSV line {}: {reason}", number + 1));
            let fields = split_csv_line(line).ok_or_else(|| at("unclosed quote"))?;
            let [name, address, user, password, rest @ ..] = &fields[..] else {
                return Err(at("expected name,address,user,password[,tls]"));
            };
            if rest.len() > 1 {
                return Err(at("more than 5 fields"));
            }
            let password = (!password.is_empty()).then_some(password.as_str());
            let builder = MikrotikDevice::builder(address.as_str()).credentials(user, password);
            // A configuration error's reason, not its Display: that would
            // say "invalid configuration: " a second time.
            let builder =
                with_tls(builder, rest.first().map_or("", |s| s.trim())).map_err(|e| match e {
                    Error::Config(reason) => at(&reason),
                    other => at(&other.to_string()),
                })?;
            routers.push((name.clone(), builder));
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

/// Splits one CSV line into fields; `None` for an unclosed quote.
fn split_csv_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field.trim().to_owned());
    Some(fields)
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
        assert_eq!(
            split_csv_line("a,\"pa,ss\"\"word\",c").unwrap(),
            ["a", "pa,ss\"word", "c"]
        );
        assert!(split_csv_line("a,\"open").is_none());
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
