//! A `serde::Deserializer` over one reply's attributes, following RouterOS conventions.

use std::borrow::Cow;
use std::fmt::Display;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::TextPolicy;
use crate::protocol::{RawAttributes, ReplyResponse};
use crate::{Error, Result};

impl de::Error for Error {
    fn custom<T: Display>(reason: T) -> Self {
        Error::Decode {
            key: None,
            value: None,
            reason: reason.to_string(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Error::Decode {
            key: Some(field.to_owned()),
            value: None,
            reason: "missing field".to_owned(),
        }
    }
}

/// Decodes one `!re` row into `T`, following RouterOS conventions.
///
/// Keys (struct fields):
/// - a key maps to the field of the same name if there is one (so
///   `#[serde(rename = "tx-byte")]` works), otherwise to its snake_case form:
///   `-` becomes `_` and one leading `.` is dropped (`tx-byte` → `tx_byte`,
///   `.id` → `id`, `.dead` → `dead`, `.nextid` → `nextid`);
/// - keys with no field are ignored; absent keys give `None` for `Option`
///   fields (and the `#[serde(default)]` for others, else a missing-field error);
/// - a repeated key decodes its first value.
///
/// Values:
/// - `bool`: `true`/`yes` and `false`/`no` (RouterOS 7 and 6);
/// - integers and floats: decimal text (`1500`, `-3`, `0.5`);
/// - durations: use [`RouterOsDuration`](super::RouterOsDuration) as the field type,
///   or keep a `std::time::Duration` with `#[serde(with = "mikrotik_rs::api::duration")]`
///   ([`duration::option`](super::duration::option) for `Option<Duration>`); a plain
///   `Duration` field fails with an error that says so;
/// - `Vec<T>` and tuples: comma-separated items (`ether1,ether2`; an empty value
///   is an empty list);
/// - `Option<T>`: an empty value (`=comment=`) is `None` as well as an absent key;
/// - `String`/`&str`: the text; bytes that are not UTF-8 (RouterOS sends
///   whatever code page the value was typed in) are replaced by U+FFFD —
///   deserialize into `serde_bytes::ByteBuf` to keep them exactly;
/// - unit-only enums: by variant name (use `#[serde(rename_all = "kebab-case")]`).
///
/// `HashMap<String, String>` (or any map) gets the keys exactly as sent
/// (`.id`, `tx-byte`); so do fields of `#[serde(flatten)]`, which serde reads
/// through a map.
///
/// A value that does not parse is an [`Error::Decode`] naming the key and the value.
///
/// ```
/// # use mikrotik_rs::protocol::{CommandResponse, Sentence};
/// use mikrotik_rs::api::{from_reply, RouterOsDuration};
///
/// #[derive(serde::Deserialize)]
/// struct Interface {
///     id: String,
///     name: String,
///     mtu: Option<u16>,
///     running: bool,
///     tx_byte: u64,
///     uptime: Option<RouterOsDuration>,
/// }
/// # let sentence = Sentence::from_words(["!re", "=.id=*1", "=name=ether1", "=running=yes",
/// #     "=tx-byte=42", ".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11"]);
/// # let CommandResponse::Reply(row) = CommandResponse::parse(sentence).unwrap() else { panic!() };
/// let interface: Interface = from_reply(&row)?;
/// assert_eq!(interface.id, "*1");
/// assert!(interface.running);
/// # Ok::<(), mikrotik_rs::Error>(())
/// ```
pub fn from_reply<'de, T: de::Deserialize<'de>>(reply: &'de ReplyResponse) -> Result<T> {
    from_reply_with(reply, TextPolicy::Lossy)
}

/// [`from_reply`], with text that is not UTF-8 read as `text` says (see
/// [`TextPolicy`]): an error under `Strict`, a code page under `Fallback`.
pub fn from_reply_with<'de, T: de::Deserialize<'de>>(
    reply: &'de ReplyResponse,
    text: TextPolicy,
) -> Result<T> {
    from_attributes_with(&reply.attributes_raw, text).map_err(|error| name_the_row(error, reply))
}

/// Says which row a decode error is about, by its `.id`, when it has one.
fn name_the_row(error: Error, reply: &ReplyResponse) -> Error {
    match (error, reply.attributes_raw.get(".id")) {
        (Error::Decode { key, value, reason }, Some(id)) => Error::Decode {
            key,
            value,
            reason: format!(
                "{reason} (in the row with .id {})",
                String::from_utf8_lossy(id)
            ),
        },
        (error, _) => error,
    }
}

/// Decodes a row's raw attributes into `T`: [`from_reply`] for attributes
/// that are not in a `!re` (a `!done`'s or a `!trap`'s).
pub fn from_attributes<'de, T: de::Deserialize<'de>>(attributes: &'de RawAttributes) -> Result<T> {
    from_attributes_with(attributes, TextPolicy::Lossy)
}

/// [`from_attributes`], with text that is not UTF-8 read as `text` says.
pub fn from_attributes_with<'de, T: de::Deserialize<'de>>(
    attributes: &'de RawAttributes,
    text: TextPolicy,
) -> Result<T> {
    T::deserialize(RowDeserializer { attributes, text })
        .map_err(|error| keep_secrets_out(error, attributes))
}

/// A decode error quotes nothing it cannot be sure is not secret: an error
/// without a key (raised after the row was read, as `#[serde(flatten)]`
/// does) may quote any value of the row, and serde's reasons quote the
/// value or list item that failed. So when the key is unknown or the row
/// holds any secret (the [secrets policy](crate::protocol::secrets)),
/// every quoted part of the reason is cut out, and so is every secret value
/// and list item of the row wherever it appears.
fn keep_secrets_out(error: Error, attributes: &RawAttributes) -> Error {
    use crate::protocol::secrets;
    let Error::Decode { key, value, reason } = error else {
        return error;
    };
    let secrets: Vec<&[u8]> = attributes
        .iter()
        .filter(|(k, v)| !v.is_empty() && secrets::is_secret(None, k))
        .map(|(_, v)| v)
        .collect();
    if key.is_some() && secrets.is_empty() {
        return Error::Decode { key, value, reason };
    }
    let mut reason = without_quotes(&reason);
    for secret in &secrets {
        let items = secret.split(|&b| b == b',').filter(|i| i.len() > 1);
        for part in std::iter::once(*secret).chain(items) {
            let part = String::from_utf8_lossy(part);
            reason = reason.replace(part.as_ref(), "<redacted>");
        }
    }
    let value = value.filter(|v| {
        key.is_some()
            && !secrets
                .iter()
                .any(|s| String::from_utf8_lossy(s).contains(v.as_str()))
    });
    Error::Decode { key, value, reason }
}

/// `reason` with every part quoted in `"…"`, `` `…` `` or `'…'` (how serde
/// quotes a value) replaced by `<redacted>`.
fn without_quotes(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(open) = rest.find(['"', '`', '\'']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push(quote);
        out.push_str("<redacted>");
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Deserializes one row: a struct or a map.
struct RowDeserializer<'de> {
    attributes: &'de RawAttributes,
    text: TextPolicy,
}

/// A key's field name: `tx-byte` → `tx_byte`, `.id` → `id`.
fn field_name(key: &str) -> Cow<'_, str> {
    let key = key.strip_prefix('.').unwrap_or(key);
    if key.contains('-') {
        Cow::Owned(key.replace('-', "_"))
    } else {
        Cow::Borrowed(key)
    }
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(RowAccess::new(self.attributes, None, self.text))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_map(RowAccess::new(self.attributes, Some(fields), self.text))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit_struct seq tuple tuple_struct enum identifier
    }
}

/// Walks a row's attributes as a map; for a struct, keys become field names.
struct RowAccess<'de> {
    pairs: Vec<(&'de [u8], &'de [u8])>,
    next: usize,
    fields: Option<&'static [&'static str]>,
    /// The pair whose key was handed out last, for its value and for errors.
    current: Option<(&'de [u8], &'de [u8])>,
    text: TextPolicy,
}

impl<'de> RowAccess<'de> {
    fn new(
        attributes: &'de RawAttributes,
        fields: Option<&'static [&'static str]>,
        text: TextPolicy,
    ) -> Self {
        let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
        for (key, value) in attributes.iter() {
            // A struct cannot take a field twice: the first value wins.
            if fields.is_none() || !pairs.iter().any(|(k, _)| *k == key) {
                pairs.push((key, value));
            }
        }
        Self {
            pairs,
            next: 0,
            fields,
            current: None,
            text,
        }
    }
}

impl<'de> de::MapAccess<'de> for RowAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(&(key, value)) = self.pairs.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        self.current = Some((key, value));
        let text = String::from_utf8_lossy(key);
        let name = match self.fields {
            Some(fields) if !fields.contains(&text.as_ref()) => field_name(&text).into_owned(),
            _ => text.into_owned(),
        };
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (key, value) = self
            .current
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value was asked for before its key"))?;
        let text = self.text;
        seed.deserialize(ValueDeserializer { value, text })
            .map_err(|error| name_the_attribute(error, key, value))
    }
}

/// Fills in the key and value of a decode error raised inside a value; a
/// secret's value (the [secrets policy](crate::protocol::secrets); the row's
/// menu is unknown here, so a key secret in any menu) is never kept, and is
/// cut out of the reason too (serde's messages quote the value).
fn name_the_attribute(error: Error, key: &[u8], value: &[u8]) -> Error {
    match error {
        Error::Decode {
            key: None,
            value: None,
            reason,
        } => {
            let secret = crate::protocol::secrets::is_secret(None, key);
            let shown = String::from_utf8_lossy(value).into_owned();
            let (value, reason) = if secret {
                let reason = if shown.is_empty() {
                    reason
                } else {
                    reason.replace(&shown, "<redacted>")
                };
                (
                    None,
                    format!("{reason} (the value of a secret is not shown)"),
                )
            } else {
                (Some(shown), reason)
            };
            Error::Decode {
                key: Some(String::from_utf8_lossy(key).into_owned()),
                value,
                reason,
            }
        }
        other => other,
    }
}

/// Deserializes one attribute value (or one item of a comma-separated list).
struct ValueDeserializer<'de> {
    value: &'de [u8],
    /// For strings that are not UTF-8.
    text: TextPolicy,
}

fn decode_error(reason: impl Display) -> Error {
    <Error as de::Error>::custom(reason)
}

impl<'de> ValueDeserializer<'de> {
    /// The value as text, which every scalar except a string needs to be valid.
    fn text(&self) -> Result<&'de str> {
        std::str::from_utf8(self.value).map_err(|_| decode_error("not valid UTF-8"))
    }

    fn parse<T: std::str::FromStr>(&self) -> Result<T>
    where
        T::Err: Display,
    {
        self.text()?.parse().map_err(decode_error)
    }

    fn items(&self) -> ListAccess<'de> {
        let items = if self.value.is_empty() {
            Vec::new()
        } else {
            self.value.split(|&b| b == b',').collect()
        };
        ListAccess {
            items: items.into_iter(),
            text: self.text,
        }
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                visitor.$visit(self.parse()?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            b"true" | b"yes" => visitor.visit_bool(true),
            b"false" | b"no" => visitor.visit_bool(false),
            _ => Err(decode_error("expected true/false or yes/no")),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_i128 => visit_i128,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
        deserialize_char => visit_char,
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.text.decode(self.value) {
            Some(Cow::Borrowed(text)) => visitor.visit_borrowed_str(text),
            Some(Cow::Owned(text)) => visitor.visit_string(text),
            None => Err(decode_error(
                "not valid UTF-8 (TextPolicy::Strict; the bytes are in `get_raw`)",
            )),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.value)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.value.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(self.items())
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(UnitVariant {
            value: self.value,
            text: self.text,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(decode_error("a single value cannot be a map"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        if name == "Duration" && fields == ["secs", "nanos"] {
            // serde's `std::time::Duration` is a struct; RouterOS writes `1w2d3h`.
            return Err(decode_error(
                "a RouterOS duration does not decode into `std::time::Duration`: make \
                 the field a `mikrotik_rs::RouterOsDuration`, or keep `Duration` with \
                 `#[serde(with = \"mikrotik_rs::api::duration\")]` \
                 (`mikrotik_rs::api::duration::option` for `Option<Duration>`)",
            ));
        }
        Err(decode_error("a single value cannot be a struct"))
    }
}

/// The items of a comma-separated value.
struct ListAccess<'de> {
    items: std::vec::IntoIter<&'de [u8]>,
    text: TextPolicy,
}

impl<'de> de::SeqAccess<'de> for ListAccess<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.items
            .next()
            .map(|value| {
                let text = self.text;
                seed.deserialize(ValueDeserializer { value, text })
            })
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// An enum read from a value: the value names a unit variant.
struct UnitVariant<'de> {
    value: &'de [u8],
    text: TextPolicy,
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let variant = seed.deserialize(ValueDeserializer {
            value: self.value,
            text: self.text,
        })?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(decode_error("only unit variants can be read from a value"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(decode_error("only unit variants can be read from a value"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(decode_error("only unit variants can be read from a value"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Deserialize;

    use super::*;
    use crate::api::RouterOsDuration;
    use crate::protocol::{CommandResponse, Sentence};
    use std::time::Duration;

    const TAG: &str = ".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11";

    fn row(attributes: &[&[u8]]) -> ReplyResponse {
        let mut words: Vec<&[u8]> = vec![b"!re"];
        words.extend_from_slice(attributes);
        words.push(TAG.as_bytes());
        match CommandResponse::parse(Sentence::from_words(words)).unwrap() {
            CommandResponse::Reply(reply) => reply,
            other => panic!("{other:?}"),
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Interface {
        id: String,
        name: String,
        mtu: Option<u16>,
        running: bool,
        disabled: bool,
        tx_byte: u64,
        #[serde(rename = "rx-byte")]
        received: u64,
        comment: Option<String>,
        last_link_up_time: Option<String>,
    }

    #[test]
    fn routeros_7_row() {
        let r = row(&[
            b"=.id=*1",
            b"=name=ether1",
            b"=mtu=1500",
            b"=running=true",
            b"=disabled=false",
            b"=tx-byte=123456789012",
            b"=rx-byte=7",
            b"=type=ether",
            b"=comment=",
        ]);
        let got: Interface = from_reply(&r).unwrap();
        assert_eq!(
            got,
            Interface {
                id: "*1".into(),
                name: "ether1".into(),
                mtu: Some(1500),
                running: true,
                disabled: false,
                tx_byte: 123_456_789_012,
                received: 7,
                comment: None,
                last_link_up_time: None,
            }
        );
    }

    #[test]
    fn routeros_6_booleans() {
        let r = row(&[
            b"=.id=*A",
            b"=name=x",
            b"=running=yes",
            b"=disabled=no",
            b"=tx-byte=0",
            b"=rx-byte=0",
        ]);
        let got: Interface = from_reply(&r).unwrap();
        assert!(got.running);
        assert!(!got.disabled);
        assert_eq!(got.mtu, None);
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let base: [&[u8]; 5] = [
            b"=.id=*1",
            b"=name=x",
            b"=running=yes",
            b"=disabled=no",
            b"=rx-byte=0",
        ];
        for (word, key, value) in [
            (&b"=tx-byte=lots"[..], "tx-byte", "lots"),
            (b"=tx-byte=-1", "tx-byte", "-1"),
            (b"=mtu=99999", "mtu", "99999"),
        ] {
            let mut words = base.to_vec();
            words.push(word);
            if key != "tx-byte" {
                words.push(b"=tx-byte=0");
            }
            let err = from_reply::<Interface>(&row(&words)).unwrap_err();
            match &err {
                Error::Decode {
                    key: k, value: v, ..
                } => {
                    assert_eq!(k.as_deref(), Some(key));
                    assert_eq!(v.as_deref(), Some(value));
                }
                other => panic!("{other:?}"),
            }
            let shown = err.to_string();
            assert!(shown.contains(key) && shown.contains(value), "{shown}");
        }
        let err = from_reply::<Interface>(&row(&[b"=running=maybe"])).unwrap_err();
        assert!(err.to_string().contains("`running` = \"maybe\""), "{err}");
    }

    #[test]
    fn missing_field_is_named() {
        let err = from_reply::<Interface>(&row(&[b"=.id=*1"])).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { key: Some(k), value: None, .. } if k == "name"),
            "{err:?}"
        );
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum Kind {
        Ether,
        Vlan,
        WireguardPeer,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Mixed<'a> {
        dead: Option<bool>,
        uptime: RouterOsDuration,
        ping: Option<RouterOsDuration>,
        ports: Vec<String>,
        vlans: Vec<u16>,
        empty_list: Vec<u16>,
        load: f64,
        kind: Kind,
        other_kind: Kind,
        borrowed: &'a str,
        pair: (u8, u8),
        #[serde(default)]
        absent: u32,
        dup: String,
    }

    #[test]
    fn durations_lists_enums_floats() {
        let r = row(&[
            b"=.dead=yes",
            b"=uptime=1w2d3h4m5s",
            b"=ping=14ms612us",
            b"=ports=ether1,ether2,sfp-plus1",
            b"=vlans=10,20",
            b"=empty-list=",
            b"=load=0.75",
            b"=kind=ether",
            b"=other-kind=wireguard-peer",
            b"=borrowed=text",
            b"=pair=1,2",
            b"=dup=first",
            b"=dup=second",
            b"=unknown-key=ignored",
        ]);
        let got: Mixed<'_> = from_reply(&r).unwrap();
        assert_eq!(got.dead, Some(true));
        assert_eq!(got.uptime.0, Duration::from_secs(788_645));
        assert_eq!(
            got.ping,
            Some(RouterOsDuration(Duration::from_micros(14_612)))
        );
        assert_eq!(got.ports, ["ether1", "ether2", "sfp-plus1"]);
        assert_eq!(got.vlans, [10, 20]);
        assert!(got.empty_list.is_empty());
        assert_eq!(got.load, 0.75);
        assert_eq!(got.kind, Kind::Ether);
        assert_eq!(got.other_kind, Kind::WireguardPeer);
        assert_eq!(got.borrowed, "text");
        assert_eq!(got.pair, (1, 2));
        assert_eq!(got.absent, 0);
        assert_eq!(got.dup, "first", "the first of repeated keys wins");
    }

    #[test]
    fn old_clock_durations_and_bad_ones() {
        #[derive(Debug, Deserialize)]
        struct Up {
            uptime: RouterOsDuration,
        }
        let got: Up = from_reply(&row(&[b"=uptime=1d00:01:02"])).unwrap();
        assert_eq!(got.uptime.0, Duration::from_secs(86_462));
        let err = from_reply::<Up>(&row(&[b"=uptime=soon"])).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { key: Some(k), value: Some(v), .. } if k == "uptime" && v == "soon"),
            "{err:?}"
        );
    }

    #[test]
    fn a_secret_that_does_not_decode_is_named_but_not_quoted() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Peer {
            #[serde(rename = "preshared-key")]
            preshared_key: u64,
            #[serde(rename = "private-key")]
            private_key: Kind,
        }
        for words in [
            &[&b"=preshared-key=AbSecret42"[..], b"=private-key=1"][..],
            &[&b"=preshared-key=7"[..], b"=private-key=AbSecret42"][..],
        ] {
            let err = from_reply::<Peer>(&row(words)).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("AbSecret42"), "{shown}");
            assert!(shown.contains("-key"), "names its key: {shown}");
            assert!(
                matches!(
                    &err,
                    Error::Decode {
                        key: Some(_),
                        value: None,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn bad_list_item_and_enum() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct L {
            vlans: Vec<u16>,
        }
        let err = from_reply::<L>(&row(&[b"=vlans=1,x"])).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { key: Some(k), value: Some(v), .. } if k == "vlans" && v == "1,x"),
            "{err:?}"
        );
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct E {
            kind: Kind,
        }
        let err = from_reply::<E>(&row(&[b"=kind=bridge"])).unwrap_err();
        assert!(err.to_string().contains("bridge"), "{err}");
    }

    #[test]
    fn maps_keep_raw_keys() {
        let r = row(&[b"=.id=*1", b"=tx-byte=5"]);
        let map: HashMap<String, String> = from_reply(&r).unwrap();
        assert_eq!(map[".id"], "*1");
        assert_eq!(map["tx-byte"], "5");
    }

    #[test]
    fn non_utf8_text_is_replaced_and_bytes_are_kept() {
        #[derive(Deserialize)]
        struct N {
            name: String,
        }
        let r = row(&[b"=name=caf\xe9"]);
        let got: N = from_reply(&r).unwrap();
        assert_eq!(got.name, "caf\u{fffd}");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Num {
            mtu: u16,
        }
        let err = from_reply::<Num>(&row(&[b"=mtu=1\xff"])).unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn empty_row_into_all_optional_struct() {
        #[derive(Deserialize, Default, PartialEq, Debug)]
        struct Opt {
            name: Option<String>,
        }
        assert_eq!(from_reply::<Opt>(&row(&[])).unwrap(), Opt::default());
    }
}
