//! `/certificate/sign` and the `api-ssl` service, for the mock (feature
//! `testing-tls`).
//!
//! The mock signs certificates for real (with rcgen), so the fingerprint a
//! client reads from `/certificate/print` is the one the API-SSL listener
//! presents once that certificate is assigned with
//! `/ip/service/set certificate=<name>`, exactly the flow a client follows
//! on a router.
//!
//! What is modelled, and what is not:
//! - `/certificate/add`, `print`, `set`, `remove` are the in-memory menu:
//!   `add` stores a template as given.
//! - `/certificate/sign =number=<name or id>` answers `!re =progress=…` rows
//!   (the console shows a `progress:` line) spread over the signing time,
//!   then `!done`. Cancelled before the end, the template stays unsigned, as
//!   a router's does. `name=` renames the signed certificate. `ca=` is
//!   refused: the mock signs only self-signed certificates.
//! - Keys are ECDSA: P-384 for `key-size=secp384r1`, P-256 for any other
//!   size (rcgen cannot make RSA keys), and `key-type` says `ec`.
//! - Dates are not modelled: a certificate is valid from 1975 to 4096.
//!   `MockRouter::add_certificate` adds a signed certificate whose `print`
//!   flags (`expired`, `revoked`, `private-key`, `authority`) say whatever a
//!   test needs; the key material stays, so the port still presents it.
//! - `MockRouter::api_ssl_present_instead` makes the port present another
//!   certificate than `api-ssl` names, as a service that has not picked up a
//!   change would. The `api-ssl` service's `port` is the listener's real one.
//! - Two `sign`s of one template may run at once; the one that ends second
//!   finds it signed and is refused, as the bootstrap's coordination expects.
//! - `key-cert-sign` in the key usage (RouterOS's default usage includes it)
//!   makes the certificate a CA, as on RouterOS.
//!
//! The listener that presents the `api-ssl` certificate is in `api_ssl.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::db::{Attr, Db, Menu};
use super::tls::tls_server_config;
use super::{Shared, lock};
use crate::protocol::{Sentence, encode_sentence};
use crate::tls::CertificateFingerprint;

/// The certificate menu.
pub(crate) const CERTIFICATES: &str = "/certificate";
/// The services menu (`api`, `api-ssl`, …).
pub(crate) const SERVICES: &str = "/ip/service";
/// The service whose certificate the API-SSL listener presents.
const API_SSL: &[u8] = b"api-ssl";
/// The name of the certificate [`Settings::self_signed`] installs.
pub(crate) const SELF_SIGNED_NAME: &str = "mock-api-ssl";

/// How the mock's API-SSL side is set up, from the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// A second listener speaks API-SSL.
    pub(crate) listen: bool,
    /// Start with a self-signed certificate assigned to `api-ssl`.
    pub(crate) self_signed: bool,
    /// How long `/certificate/sign` takes.
    pub(crate) signing_time: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: false,
            self_signed: false,
            signing_time: Duration::from_millis(300),
        }
    }
}

/// A certificate the mock signed: what a TLS server needs to present it.
struct Signed {
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pem: String,
    config: Option<Arc<ServerConfig>>,
}

/// The key material of every certificate the mock signed, by fingerprint
/// (the `/certificate` menu holds only what `print` shows).
#[derive(Default)]
pub(crate) struct Keys {
    signed: HashMap<CertificateFingerprint, Signed>,
    /// A certificate the listener presents whatever `api-ssl` names: a
    /// router still serving an older certificate, or another service on the port.
    presented_instead: Option<Vec<u8>>,
}

/// The answer to a command that may take time; the session runs it.
pub(crate) enum Answer {
    /// The whole answer, now.
    Now(Vec<u8>),
    /// Each of `pieces` followed by a pause, then what `finish` returns.
    /// The command's effect happens in `finish`, so a command cancelled
    /// before it has none.
    Paced {
        pause: Duration,
        pieces: Vec<Vec<u8>>,
        finish: Box<dyn FnOnce() -> Vec<u8> + Send>,
    },
}

/// The menus this file serves: an empty `/certificate` and the services of
/// a router fresh from the box (`api-ssl` without a certificate).
pub(crate) fn preload(db: &mut Db, v6: bool) {
    db.menus.insert(CERTIFICATES.to_owned(), Menu::default());
    db.menus.insert(SERVICES.to_owned(), Menu::default());
    let no = if v6 { "no" } else { "false" };
    let services = [
        ("telnet", "23", false),
        ("ftp", "21", false),
        ("www", "80", false),
        ("ssh", "22", false),
        ("www-ssl", "443", true),
        ("api", "8728", false),
        ("winbox", "8291", false),
        ("api-ssl", "8729", true),
    ];
    for (name, port, tls) in services {
        let mut attrs = vec![
            ("name", name),
            ("port", port),
            ("address", ""),
            ("disabled", no),
            ("invalid", no),
        ];
        if tls {
            attrs.extend([("certificate", "none"), ("tls-version", "any")]);
        }
        let _ = db.add(SERVICES, &pairs(&attrs));
    }
}

/// Generates a self-signed server certificate, adds it to `/certificate`
/// and assigns it to `api-ssl`: a mock that speaks API-SSL from the start.
pub(crate) fn install_self_signed(shared: &Shared) -> Result<(), String> {
    let template = pairs(&[
        ("name", SELF_SIGNED_NAME),
        ("common-name", "mikrotik-rs mock router"),
        ("subject-alt-name", "IP:127.0.0.1,DNS:localhost"),
        ("key-size", "prime256v1"),
        ("key-usage", "digital-signature,key-encipherment,tls-server"),
    ]);
    let (signed, shown) = sign_template(&template, yes_no(shared))?;
    let mut db = lock(&shared.db);
    let mut row = template;
    row.extend(shown);
    db.add(CERTIFICATES, &row)
        .map_err(|(_, why)| why.into_owned())?;
    let certificate = pairs(&[("certificate", SELF_SIGNED_NAME)]);
    db.set(SERVICES, API_SSL, &certificate)
        .map_err(|(_, why)| why.into_owned())?;
    drop(db);
    let fingerprint = CertificateFingerprint::of_certificate(&signed.der);
    lock(&shared.keys).signed.insert(fingerprint, signed);
    Ok(())
}

/// Makes the listener present the certificate `name` whatever `api-ssl`
/// names (`None`: what `api-ssl` names again).
pub(crate) fn present_instead(shared: &Shared, name: Option<&str>) {
    lock(&shared.keys).presented_instead = name.map(|n| n.as_bytes().to_vec());
}

/// Whether the `api-ssl` service is disabled now: then, as on a router,
/// its port presents nothing (the listener closes the connection).
pub(crate) fn api_ssl_disabled(shared: &Shared) -> bool {
    let db = lock(&shared.db);
    db.menus
        .get(SERVICES)
        .and_then(|menu| menu.items.iter().find(|i| i.get(b"name") == Some(API_SSL)))
        .and_then(|service| service.get(b"disabled"))
        .is_some_and(|disabled| matches!(disabled, b"true" | b"yes"))
}

/// Writes the API-SSL listener's real port into the `api-ssl` service, as
/// `print` shows a router's.
pub(crate) fn set_api_ssl_port(shared: &Shared, port: u16) -> Result<(), String> {
    let port = pairs(&[("port", &port.to_string())]);
    lock(&shared.db)
        .set(SERVICES, API_SSL, &port)
        .map_err(|(_, why)| why.into_owned())
}

/// Signs the template `attrs` at once and adds it to `/certificate`; then
/// `attrs` overrides what `print` shows (`expired`, `revoked`,
/// `private-key`, `authority`…), for certificates in any state.
pub(crate) fn add_signed(
    shared: &Shared,
    attrs: Vec<Attr>,
) -> Result<CertificateFingerprint, String> {
    let (signed, shown) = sign_template(&attrs, yes_no(shared))?;
    let mut row = attrs.clone();
    for (key, value) in shown {
        if !row.iter().any(|(k, _)| *k == key) {
            row.push((key, value));
        }
    }
    lock(&shared.db)
        .add(CERTIFICATES, &row)
        .map_err(|(_, why)| why.into_owned())?;
    let fingerprint = CertificateFingerprint::of_certificate(&signed.der);
    lock(&shared.keys).signed.insert(fingerprint, signed);
    Ok(fingerprint)
}

/// Signs the template `target` (a name or an id) at once, as a
/// `/certificate/sign` that ran to its end would.
pub(crate) fn sign_now(shared: &Shared, target: &str) -> Result<(), String> {
    finish_signing(shared, target.as_bytes(), None).map_err(|(_, why)| why)
}

/// `/certificate/sign`.
pub(crate) fn sign(shared: &Arc<Shared>, sentence: &Sentence, tag: Option<&[u8]>) -> Answer {
    let attrs = attributes(sentence);
    let get = |key: &[u8]| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let Some(target) = get(b"number").or(get(b"numbers")).or(get(b".id")) else {
        return Answer::Now(trap_done(tag, 1, b"missing value for number"));
    };
    if get(b"ca").is_some_and(|ca| !ca.is_empty()) {
        return Answer::Now(trap_done(
            tag,
            4,
            b"the mock router signs only self-signed certificates (no ca=)",
        ));
    }
    if let Err(refusal) = find_template(&lock(&shared.db), &target) {
        return Answer::Now(trap_done(tag, refusal.0, refusal.1.as_bytes()));
    }
    let pieces = ["generating key", "signing"]
        .iter()
        .map(|step| progress_row(tag, step.as_bytes()))
        .collect::<Vec<_>>();
    let pause = shared.certificates.signing_time / pieces.len() as u32;
    let shared = Arc::clone(shared);
    let tag = tag.map(<[u8]>::to_vec);
    let new_name = get(b"name").filter(|name| !name.is_empty());
    let finish = move || {
        let tag = tag.as_deref();
        match finish_signing(&shared, &target, new_name) {
            Ok(()) => {
                let mut out = progress_row(tag, b"done");
                encode_sentence(reply_words(b"!done", tag, &[]), &mut out);
                out
            }
            Err((category, message)) => trap_done(tag, category, message.as_bytes()),
        }
    };
    Answer::Paced {
        pause,
        pieces,
        finish: Box::new(finish),
    }
}

/// The row index of the unsigned template named `target` (an id or a name).
fn find_template(db: &Db, target: &[u8]) -> Result<usize, (u8, String)> {
    let items = db.menus.get(CERTIFICATES).map_or(&[][..], |m| &m.items[..]);
    let index = items
        .iter()
        .position(|i| i.get(b".id") == Some(target) || i.get(b"name") == Some(target))
        .ok_or((0, "no such item".to_owned()))?;
    if items[index]
        .get(b"fingerprint")
        .is_some_and(|f| !f.is_empty())
    {
        return Err((4, "failure: certificate is already signed".to_owned()));
    }
    Ok(index)
}

fn finish_signing(
    shared: &Shared,
    target: &[u8],
    new_name: Option<Vec<u8>>,
) -> Result<(), (u8, String)> {
    let mut db = lock(&shared.db);
    let index = find_template(&db, target)?;
    let item = db.menus[CERTIFICATES].items[index].clone();
    let (signed, mut shown) =
        sign_template(&item.to_attrs(), yes_no(shared)).map_err(|why| (4, why))?;
    if let Some(name) = new_name {
        shown.push((b"name".to_vec(), name));
    }
    let id = item.get(b".id").unwrap_or(target).to_vec();
    db.set(CERTIFICATES, &id, &shown)
        .map_err(|(category, why)| (category.unwrap_or(4), why.into_owned()))?;
    drop(db);
    let fingerprint = CertificateFingerprint::of_certificate(&signed.der);
    lock(&shared.keys).signed.insert(fingerprint, signed);
    Ok(())
}

/// Signs the template `attrs` (self-signed); returns the key material and
/// the attributes `print` shows from then on.
fn sign_template(attrs: &[Attr], (yes, no): (&str, &str)) -> Result<(Signed, Vec<Attr>), String> {
    let get = |key: &[u8]| {
        attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let mut params = CertificateParams::default();
    let common_name = get(b"common-name").unwrap_or_default();
    if common_name.is_empty() {
        return Err("failure: common-name must be set".to_owned());
    }
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    for name in get(b"subject-alt-name")
        .unwrap_or_default()
        .split(',')
        .filter(|n| !n.is_empty())
    {
        params.subject_alt_names.push(subject_alt_name(name)?);
    }
    let usage = get(b"key-usage").unwrap_or_else(|| {
        "digital-signature,key-encipherment,data-encipherment,key-cert-sign,crl-sign,\
         tls-server,tls-client"
            .to_owned()
    });
    let mut authority = false;
    for purpose in usage.split(',').filter(|p| !p.is_empty()) {
        match purpose {
            "digital-signature" => params.key_usages.push(KeyUsagePurpose::DigitalSignature),
            "content-commitment" => params.key_usages.push(KeyUsagePurpose::ContentCommitment),
            "key-encipherment" => params.key_usages.push(KeyUsagePurpose::KeyEncipherment),
            "data-encipherment" => params.key_usages.push(KeyUsagePurpose::DataEncipherment),
            "key-agreement" => params.key_usages.push(KeyUsagePurpose::KeyAgreement),
            "key-cert-sign" => {
                authority = true;
                params.key_usages.push(KeyUsagePurpose::KeyCertSign);
            }
            "crl-sign" => params.key_usages.push(KeyUsagePurpose::CrlSign),
            "tls-server" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth),
            "tls-client" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth),
            "code-sign" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::CodeSigning),
            "email-protect" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::EmailProtection),
            "timestamp" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::TimeStamping),
            "ocsp-sign" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::OcspSigning),
            other => return Err(format!("invalid value for argument key-usage: {other}")),
        }
    }
    if authority {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let algorithm = match get(b"key-size").as_deref() {
        Some("secp384r1") => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => &rcgen::PKCS_ECDSA_P256_SHA256,
    };
    let key = KeyPair::generate_for(algorithm).map_err(|e| format!("failure: {e}"))?;
    let certificate = params
        .self_signed(&key)
        .map_err(|e| format!("failure: {e}"))?;
    let der = certificate.der().clone();
    let fingerprint = CertificateFingerprint::of_certificate(&der);
    let signed = Signed {
        der,
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: certificate.pem(),
        config: None,
    };
    let flag = |on: bool| if on { yes } else { no };
    let shown = pairs(&[
        ("fingerprint", &fingerprint.to_string()),
        ("key-type", "ec"),
        ("private-key", yes),
        ("authority", flag(authority)),
        ("trusted", yes),
        ("expired", no),
        ("revoked", no),
    ]);
    Ok((signed, shown))
}

fn subject_alt_name(name: &str) -> Result<SanType, String> {
    let invalid = || format!("invalid value for argument subject-alt-name: {name}");
    match name.split_once(':') {
        Some(("IP", ip)) => ip.parse().map(SanType::IpAddress).map_err(|_| invalid()),
        Some(("DNS", dns)) => dns
            .to_owned()
            .try_into()
            .map(SanType::DnsName)
            .map_err(|_| invalid()),
        Some(("email", mail)) => mail
            .to_owned()
            .try_into()
            .map(SanType::Rfc822Name)
            .map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// The certificate the `api-ssl` service has now (or the one presented
/// instead), with its key material.
fn assigned<'k>(shared: &Shared, keys: &'k mut Keys) -> Option<&'k mut Signed> {
    let fingerprint = {
        let db = lock(&shared.db);
        let service = db
            .menus
            .get(SERVICES)?
            .items
            .iter()
            .find(|i| i.get(b"name") == Some(API_SSL))?;
        let name = match &keys.presented_instead {
            Some(name) => name.as_slice(),
            None => service.get(b"certificate")?,
        };
        if name.is_empty() || name == b"none" {
            return None;
        }
        let certificate = db
            .menus
            .get(CERTIFICATES)?
            .items
            .iter()
            .find(|i| i.get(b"name") == Some(name))?;
        std::str::from_utf8(certificate.get(b"fingerprint")?)
            .ok()?
            .parse::<CertificateFingerprint>()
            .ok()?
    };
    keys.signed.get_mut(&fingerprint)
}

/// The certificate `api-ssl` presents now: its fingerprint, its PEM, and
/// a rustls configuration presenting it (built once per certificate).
pub(crate) fn api_ssl_certificate(
    shared: &Shared,
) -> Option<(CertificateFingerprint, String, Option<Arc<ServerConfig>>)> {
    let mut keys = lock(&shared.keys);
    let signed = assigned(shared, &mut keys)?;
    if signed.config.is_none() {
        let key = PrivateKeyDer::Pkcs8(signed.key.clone_key());
        signed.config = tls_server_config(vec![signed.der.clone()], key).ok();
    }
    let fingerprint = CertificateFingerprint::of_certificate(&signed.der);
    Some((fingerprint, signed.pem.clone(), signed.config.clone()))
}

fn yes_no(shared: &Shared) -> (&'static str, &'static str) {
    if shared.config.v6 {
        ("yes", "no")
    } else {
        ("true", "false")
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<Attr> {
    list.iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// The `=key=value` words of a command.
fn attributes(sentence: &Sentence) -> Vec<Attr> {
    sentence
        .words()
        .skip(1)
        .filter_map(|word| {
            let body = word.strip_prefix(b"=")?;
            let eq = body.iter().position(|&b| b == b'=')?;
            Some((body[..eq].to_vec(), body[eq + 1..].to_vec()))
        })
        .collect()
}

/// A reply's words: the reply word, `.tag` right after it, then attributes.
fn reply_words(word: &[u8], tag: Option<&[u8]>, attrs: &[(&[u8], &[u8])]) -> Vec<Vec<u8>> {
    let mut words = vec![word.to_vec()];
    if let Some(tag) = tag {
        words.push([b".tag=", tag].concat());
    }
    for (key, value) in attrs {
        words.push([b"=", *key, b"=", *value].concat());
    }
    words
}

fn progress_row(tag: Option<&[u8]>, progress: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_sentence(
        reply_words(b"!re", tag, &[(b"progress", progress)]),
        &mut out,
    );
    out
}

fn trap_done(tag: Option<&[u8]>, category: u8, message: &[u8]) -> Vec<u8> {
    let category = category.to_string();
    let mut out = Vec::new();
    encode_sentence(
        reply_words(
            b"!trap",
            tag,
            &[(b"category", category.as_bytes()), (b"message", message)],
        ),
        &mut out,
    );
    encode_sentence(reply_words(b"!done", tag, &[]), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown<'a>(attrs: &'a [Attr], key: &str) -> Option<&'a [u8]> {
        attrs
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| &v[..])
    }

    #[test]
    fn the_default_key_usage_makes_a_ca_and_a_server_usage_does_not() {
        let template = pairs(&[("common-name", "router")]);
        let (_, attrs) = sign_template(&template, ("true", "false")).unwrap();
        assert_eq!(shown(&attrs, "authority"), Some(&b"true"[..]));

        let template = pairs(&[
            ("common-name", "router"),
            ("key-usage", "digital-signature,key-encipherment,tls-server"),
        ]);
        let (signed, attrs) = sign_template(&template, ("true", "false")).unwrap();
        assert_eq!(shown(&attrs, "authority"), Some(&b"false"[..]));
        let fingerprint = CertificateFingerprint::of_certificate(&signed.der).to_string();
        assert_eq!(shown(&attrs, "fingerprint"), Some(fingerprint.as_bytes()));
        assert!(signed.pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        let no_name = pairs(&[("key-size", "prime256v1")]);
        let why = sign_template(&no_name, ("yes", "no")).err().unwrap();
        assert!(why.contains("common-name"), "{why}");
        let bad_usage = pairs(&[("common-name", "r"), ("key-usage", "fly")]);
        let why = sign_template(&bad_usage, ("yes", "no")).err().unwrap();
        assert!(why.contains("fly"), "{why}");
        let bad_san = pairs(&[("common-name", "r"), ("subject-alt-name", "IP:nope")]);
        let why = sign_template(&bad_san, ("yes", "no")).err().unwrap();
        assert!(why.contains("IP:nope"), "{why}");
    }

    #[test]
    fn subject_alt_names_in_routeros_syntax() {
        assert!(matches!(
            subject_alt_name("IP:10.0.0.1"),
            Ok(SanType::IpAddress(_))
        ));
        assert!(matches!(
            subject_alt_name("DNS:router.lan"),
            Ok(SanType::DnsName(_))
        ));
        assert!(subject_alt_name("router.lan").is_err());
    }
}
