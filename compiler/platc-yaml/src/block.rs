//! The block writer: a serde [`Serializer`](ser::Serializer) that writes any `Serialize` value
//! (a JSON tree, typed rule groups) as YAML block maps and lists, with the scalars of
//! [`super::scalar`], straight into the output: no tree is built first.
//!
//! Whatever it cannot tell apart cheaply (a key that is not a plain word, a string that needs
//! weighing, a float, a list inside a list, an enum) makes it give up on that one map entry or
//! list item with [`Fallback`]: the entry is taken back out of the output and written by
//! serde-saphyr alone, indented into place ([`super::by_saphyr`]). Block layout is relative, so
//! those bytes are the ones serde-saphyr would have written in place.

use serde::ser::{self, Impossible, Serialize};

use super::scalar::{self, Scalar};
use super::{by_saphyr, pad, Entry, Item};

/// "Not here: let serde-saphyr write this entry." Never reaches a caller of [`write`].
#[derive(Debug)]
pub(super) struct Fallback;

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde-saphyr")
    }
}

impl std::error::Error for Fallback {}

impl ser::Error for Fallback {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Fallback
    }
}

/// Writes `value` as one YAML document into `out`; `Err` (nothing written) when it is not a
/// non-empty map, which serde-saphyr then writes whole.
pub(super) fn write<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Fallback> {
    let start = out.len();
    value.serialize(Value { out, place: Place::Top }).inspect_err(|_| out.truncate(start))
}

/// Where a value is being written.
#[derive(Clone, Copy)]
enum Place {
    /// The document itself: only a non-empty map is written here.
    Top,
    /// After a key already written (at `indent`): `: value`, or a nested block.
    Entry { indent: usize },
    /// A list item at `indent`: `- value`, or a map whose first entry follows the `- `.
    Item { indent: usize },
}

/// One map entry at `indent`; without `at_line_start` it continues the current line (the first
/// entry of a map in a list item). Falls back to serde-saphyr for the whole entry.
fn entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(out: &mut String, key: &K, value: &V, indent: usize, at_line_start: bool) {
    let start = out.len();
    if at_line_start {
        pad(out, indent);
    }
    let written = key.serialize(Key { out: &mut *out }).is_ok() && value.serialize(Value { out: &mut *out, place: Place::Entry { indent } }).is_ok();
    if !written {
        out.truncate(start);
        by_saphyr(out, &Entry(key, value), indent, at_line_start);
    }
}

/// One list item at `indent`. Falls back to serde-saphyr for the whole item.
fn item<T: Serialize + ?Sized>(out: &mut String, value: &T, indent: usize) {
    let start = out.len();
    if value.serialize(Value { out: &mut *out, place: Place::Item { indent } }).is_err() {
        out.truncate(start);
        by_saphyr(out, &Item(value), indent, true);
    }
}

/// Writes a map key when it is a plain word (see [`scalar::is_word`]).
struct Key<'o> {
    out: &'o mut String,
}

/// A value in its [`Place`].
struct Value<'o> {
    out: &'o mut String,
    place: Place,
}

impl<'o> Value<'o> {
    fn scalar(self, s: Scalar) -> Result<(), Fallback> {
        let body_indent = match self.place {
            Place::Top => return Err(Fallback),
            Place::Entry { indent } => {
                self.out.push_str(": ");
                indent + 2
            }
            Place::Item { indent } => {
                pad(self.out, indent);
                self.out.push_str("- ");
                indent + 2
            }
        };
        scalar::push_scalar(self.out, &s, body_indent);
        Ok(())
    }

    fn integer(self, n: impl Into<i128>) -> Result<(), Fallback> {
        self.scalar(Scalar::Integer(n.into()))
    }

    fn block(self) -> Result<Block<'o>, Fallback> {
        Ok(Block { out: self.out, place: self.place, count: 0, key: None })
    }
}

/// A map or list being written: its header (`key:` line end, or `- `) goes out with its first
/// member, so that an empty one can still be written as `{}` or `[]`.
struct Block<'o> {
    out: &'o mut String,
    place: Place,
    count: usize,
    /// A key given alone ([`ser::SerializeMap::serialize_key`]), until its value comes.
    key: Option<String>,
}

impl Block<'_> {
    /// Map entries: where the next one goes, its header written first.
    fn next_entry(&mut self) -> (usize, bool) {
        self.count += 1;
        match self.place {
            Place::Top => (0, true),
            Place::Entry { indent } => {
                if self.count == 1 {
                    self.out.push_str(":\n");
                }
                (indent + 2, true)
            }
            Place::Item { indent } => {
                if self.count == 1 {
                    pad(self.out, indent);
                    self.out.push_str("- ");
                }
                (indent + 2, self.count > 1)
            }
        }
    }

    fn end_map(self) -> Result<(), Fallback> {
        if self.count > 0 {
            return Ok(());
        }
        Value { out: self.out, place: self.place }.scalar(Scalar::Plain("{}"))
    }

    fn entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(&mut self, key: &K, value: &V) {
        let (indent, at_line_start) = self.next_entry();
        entry(self.out, key, value, indent, at_line_start);
    }

    /// List items; a non-empty list is only written after a key (lists sit at their key's
    /// indentation): one in a list item is serde-saphyr's.
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        let Place::Entry { indent } = self.place else { return Err(Fallback) };
        self.count += 1;
        if self.count == 1 {
            self.out.push_str(":\n");
        }
        item(self.out, value, indent);
        Ok(())
    }

    fn end_list(self) -> Result<(), Fallback> {
        if self.count > 0 {
            return Ok(());
        }
        Value { out: self.out, place: self.place }.scalar(Scalar::Plain("[]"))
    }
}

/// Serializer methods of the integer types that write the integer.
macro_rules! integers {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(fn $name(self, v: $t) -> Result<(), Fallback> {
            self.integer(v)
        })*
    };
}

/// Serializer methods of the scalar types that leave the value to serde-saphyr.
macro_rules! fallback {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(fn $name(self, _: $t) -> Result<(), Fallback> {
            Err(Fallback)
        })*
    };
}

/// The serializer methods of the shapes that neither the value nor the key serializer writes
/// (bytes, unit structs, enums, newtypes, tuples): serde-saphyr writes them.
macro_rules! fallback_shapes {
    () => {
        fn serialize_bytes(self, _: &[u8]) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Fallback> {
            Err(Fallback)
        }
        fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Fallback> {
            Err(Fallback)
        }
    };
}

impl<'o> ser::Serializer for Value<'o> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = Block<'o>;
    type SerializeTuple = Impossible<(), Fallback>;
    type SerializeTupleStruct = Impossible<(), Fallback>;
    type SerializeTupleVariant = Impossible<(), Fallback>;
    type SerializeMap = Block<'o>;
    type SerializeStruct = Block<'o>;
    type SerializeStructVariant = Impossible<(), Fallback>;

    fn serialize_bool(self, v: bool) -> Result<(), Fallback> {
        self.scalar(Scalar::Plain(if v { "true" } else { "false" }))
    }
    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    // Floats, characters, bytes and enums are serde-saphyr's to write.
    fallback!(serialize_f32: f32, serialize_f64: f64, serialize_char: char);
    fn serialize_str(self, v: &str) -> Result<(), Fallback> {
        match scalar::string(v) {
            Some(s) => self.scalar(s),
            None => Err(Fallback),
        }
    }
    fn serialize_none(self) -> Result<(), Fallback> {
        self.scalar(Scalar::Plain("null"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Fallback> {
        self.scalar(Scalar::Plain("null"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Block<'o>, Fallback> {
        match self.place {
            // A document that is a list.
            Place::Top => Err(Fallback),
            // Inside a list, only an empty one (`- []`) gets past its first item.
            Place::Entry { .. } | Place::Item { .. } => self.block(),
        }
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Block<'o>, Fallback> {
        self.block()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Block<'o>, Fallback> {
        self.block()
    }
    fallback_shapes!();
}

impl ser::SerializeSeq for Block<'_> {
    type Ok = ();
    type Error = Fallback;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }
    fn end(self) -> Result<(), Fallback> {
        self.end_list()
    }
}

impl ser::SerializeMap for Block<'_> {
    type Ok = ();
    type Error = Fallback;
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(&mut self, key: &K, value: &V) -> Result<(), Fallback> {
        self.entry(key, value);
        Ok(())
    }
    // Keys and values given apart (serde's default `serialize_entry` is overridden above; only
    // hand-written `Serialize` impls call these): the key is kept as text until its value.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
        let mut text = String::new();
        key.serialize(Key { out: &mut text })?;
        self.key = Some(text);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        let key = self.key.take().ok_or(Fallback)?;
        self.entry(key.as_str(), value);
        Ok(())
    }
    fn end(self) -> Result<(), Fallback> {
        self.end_map()
    }
}

// A struct is a map whose keys are its field names.
impl ser::SerializeStruct for Block<'_> {
    type Ok = ();
    type Error = Fallback;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Fallback> {
        ser::SerializeMap::serialize_entry(self, key, value)
    }
    fn end(self) -> Result<(), Fallback> {
        ser::SerializeMap::end(self)
    }
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = Impossible<(), Fallback>;
    type SerializeTuple = Impossible<(), Fallback>;
    type SerializeTupleStruct = Impossible<(), Fallback>;
    type SerializeTupleVariant = Impossible<(), Fallback>;
    type SerializeMap = Impossible<(), Fallback>;
    type SerializeStruct = Impossible<(), Fallback>;
    type SerializeStructVariant = Impossible<(), Fallback>;

    fn serialize_str(self, v: &str) -> Result<(), Fallback> {
        if !scalar::is_word(v) {
            return Err(Fallback);
        }
        self.out.push_str(v);
        Ok(())
    }
    // Any other key is serde-saphyr's.
    fallback!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_f32: f32,
        serialize_f64: f64,
        serialize_char: char
    );
    fn serialize_none(self) -> Result<(), Fallback> {
        Err(Fallback)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Fallback> {
        Err(Fallback)
    }
    fn serialize_unit(self) -> Result<(), Fallback> {
        Err(Fallback)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Fallback> {
        Err(Fallback)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Fallback> {
        Err(Fallback)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Fallback> {
        Err(Fallback)
    }
    fallback_shapes!();
}
