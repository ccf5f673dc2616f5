//! A desired item from a serialisable struct (feature `serde`): each field a
//! property, as RouterOS writes it.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::Fields;
use crate::{Error, Result};

/// The fields of `item`: a struct or a map of simple values. Struct field
/// names go `snake_case` → `kebab-case` (serde's `rename` still wins: it is
/// applied first); `None` is a field not given; `bool` is `yes`/`no`; numbers
/// and strings as written; unit enum variants by name; sequences joined with
/// `,` (RouterOS lists). Anything else is an [`Error::Config`].
pub(crate) fn to_fields<T: Serialize + ?Sized>(item: &T) -> Result<Fields> {
    item.serialize(ItemSerializer)
        .map_err(|error| Error::Config(format!("desired item: {}", error.0)))
}

#[derive(Debug)]
struct SerError(String);

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

fn not_an_item<T>() -> Result<T, SerError> {
    Err(SerError("must be a struct or a map of fields".into()))
}

fn not_a_value<T>(what: &str) -> Result<T, SerError> {
    Err(SerError(format!("a field's value cannot be {what}")))
}

/// Serialises the item itself: a struct or a map.
struct ItemSerializer;

/// Generates the methods a serializer refuses.
macro_rules! refuse {
    ($fail:expr; $($method:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<Self::Ok, SerError> {
            $fail
        }
    )*};
}

impl ser::Serializer for ItemSerializer {
    type Ok = Fields;
    type Error = SerError;
    type SerializeSeq = Impossible<Fields, SerError>;
    type SerializeTuple = Impossible<Fields, SerError>;
    type SerializeTupleStruct = Impossible<Fields, SerError>;
    type SerializeTupleVariant = Impossible<Fields, SerError>;
    type SerializeMap = FieldsOf;
    type SerializeStruct = FieldsOf;
    type SerializeStructVariant = Impossible<Fields, SerError>;

    refuse!(not_an_item();
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Fields, SerError> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Fields, SerError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Fields, SerError> {
        not_an_item()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        not_an_item()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        not_an_item()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        not_an_item()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        not_an_item()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<FieldsOf, SerError> {
        Ok(FieldsOf::default())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<FieldsOf, SerError> {
        Ok(FieldsOf::default())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        not_an_item()
    }
}

/// The fields gathered so far (and a map's key waiting for its value).
#[derive(Default)]
struct FieldsOf {
    fields: Fields,
    key: Option<String>,
}

impl FieldsOf {
    fn put<T: Serialize + ?Sized>(&mut self, name: String, value: &T) -> Result<(), SerError> {
        if let Some(value) = value.serialize(ValueSerializer)? {
            self.fields.insert(name, value);
        }
        Ok(())
    }
}

impl ser::SerializeStruct for FieldsOf {
    type Ok = Fields;
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.put(name.replace('_', "-"), value)
    }

    fn end(self) -> Result<Fields, SerError> {
        Ok(self.fields)
    }
}

impl ser::SerializeMap for FieldsOf {
    type Ok = Fields;
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        match key.serialize(ValueSerializer)? {
            Some(key) => {
                self.key = Some(key);
                Ok(())
            }
            None => Err(SerError("a field's name cannot be empty".into())),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let key = self.key.take().unwrap_or_default();
        self.put(key, value)
    }

    fn end(self) -> Result<Fields, SerError> {
        Ok(self.fields)
    }
}

/// Serialises one value: `None` when the field is not given.
struct ValueSerializer;

macro_rules! display {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method(self, value: $ty) -> Result<Option<String>, SerError> {
            Ok(Some(value.to_string()))
        }
    )*};
}

impl ser::Serializer for ValueSerializer {
    type Ok = Option<String>;
    type Error = SerError;
    type SerializeSeq = List;
    type SerializeTuple = List;
    type SerializeTupleStruct = Impossible<Option<String>, SerError>;
    type SerializeTupleVariant = Impossible<Option<String>, SerError>;
    type SerializeMap = Impossible<Option<String>, SerError>;
    type SerializeStruct = Impossible<Option<String>, SerError>;
    type SerializeStructVariant = Impossible<Option<String>, SerError>;

    display!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
    );

    fn serialize_bool(self, value: bool) -> Result<Option<String>, SerError> {
        Ok(Some(if value { "yes" } else { "no" }.to_owned()))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<Option<String>, SerError> {
        not_a_value("bytes")
    }

    fn serialize_none(self) -> Result<Option<String>, SerError> {
        Ok(None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Option<String>, SerError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Option<String>, SerError> {
        Ok(None)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<Option<String>, SerError> {
        Ok(None)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<String>, SerError> {
        Ok(Some(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Option<String>, SerError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<String>, SerError> {
        not_a_value("an enum variant with data")
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<List, SerError> {
        Ok(List::default())
    }

    fn serialize_tuple(self, _: usize) -> Result<List, SerError> {
        Ok(List::default())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        not_a_value("a tuple struct")
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        not_a_value("an enum variant with data")
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        not_a_value("a map")
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        not_a_value("a struct")
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        not_a_value("an enum variant with data")
    }
}

/// A sequence, joined with `,` as RouterOS writes lists.
#[derive(Default)]
struct List(Vec<String>);

impl List {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        if let Some(value) = value.serialize(ValueSerializer)? {
            self.0.push(value);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for List {
    type Ok = Option<String>;
    type Error = SerError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }

    fn end(self) -> Result<Option<String>, SerError> {
        Ok(Some(self.0.join(",")))
    }
}

impl ser::SerializeTuple for List {
    type Ok = Option<String>;
    type Error = SerError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }

    fn end(self) -> Result<Option<String>, SerError> {
        Ok(Some(self.0.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::to_fields;

    #[derive(serde::Serialize)]
    enum Action {
        #[serde(rename = "drop")]
        Drop,
    }

    #[derive(serde::Serialize)]
    struct Rule {
        chain: &'static str,
        action: Action,
        src_address: Option<&'static str>,
        dst_port: Option<u16>,
        disabled: bool,
        #[serde(rename = "connection-state")]
        states: Vec<&'static str>,
    }

    #[test]
    fn a_struct_becomes_fields() {
        let fields = to_fields(&Rule {
            chain: "input",
            action: Action::Drop,
            src_address: Some("192.0.2.7"),
            dst_port: None,
            disabled: false,
            states: vec!["invalid", "new"],
        })
        .unwrap();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("action", "drop"),
                ("chain", "input"),
                ("connection-state", "invalid,new"),
                ("disabled", "no"),
                ("src-address", "192.0.2.7"),
            ]
        );
    }

    #[test]
    fn not_an_item() {
        let err = to_fields(&42).unwrap_err();
        assert!(err.to_string().contains("struct or a map"), "{err}");
        let inner: std::collections::BTreeMap<&str, i32> = [("nested", 1)].into_iter().collect();
        let outer: std::collections::BTreeMap<&str, _> = [("a", inner)].into_iter().collect();
        let err = to_fields(&outer).unwrap_err();
        assert!(err.to_string().contains("cannot be a map"), "{err}");
    }
}
