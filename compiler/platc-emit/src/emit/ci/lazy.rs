//! A pipeline document whose jobs are built while it is serialized, one at a time.
//!
//! Why: a repository of 10,000 services has ~20,000 jobs. Built as one JSON tree before
//! serializing, the workflow took ~390 MB (a JSON value is ~14x the YAML it becomes); built
//! and serialized job by job it takes the YAML text plus one job.

use std::cell::RefCell;

use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::data::{CiData, CiError};
use super::Annotated;

/// Builds one value of the document when it is written.
pub(crate) type Build<'a> = Box<dyn Fn() -> Result<Json, CiError> + 'a>;

/// One value of a [`LazyMap`].
pub(crate) enum Entry<'a> {
    /// Small and known up front.
    Ready(Json),
    /// Built when it is written, dropped right after.
    Later(Build<'a>),
    /// A nested mapping of the same kind (the `jobs:` of a GitHub workflow).
    Map(LazyMap<'a>),
}

/// An ordered YAML mapping of [`Entry`] values.
#[derive(Default)]
pub(crate) struct LazyMap<'a> {
    entries: Vec<(String, Entry<'a>)>,
}

impl<'a> LazyMap<'a> {
    pub(crate) fn ready(&mut self, key: impl Into<String>, value: Json) {
        self.entries.push((key.into(), Entry::Ready(value)));
    }

    pub(crate) fn later(&mut self, key: impl Into<String>, build: impl Fn() -> Result<Json, CiError> + 'a) {
        self.entries.push((key.into(), Entry::Later(Box::new(build))));
    }

    pub(crate) fn map(&mut self, key: impl Into<String>, map: LazyMap<'a>) {
        self.entries.push((key.into(), Entry::Map(map)));
    }

    /// The YAML text after `header`, or the first error a builder returned.
    pub(crate) fn to_yaml(&self, header: &str, data: &CiData) -> Result<String, CiError> {
        let error = RefCell::new(None);
        let text = crate::emit::yaml::with_header(header, &Writing { map: self, data, error: &error });
        match error.into_inner() {
            Some(e) => Err(e),
            None => Ok(text),
        }
    }
}

/// A [`LazyMap`] being serialized: where a builder's error is kept (serde's error type cannot
/// carry a [`CiError`]).
struct Writing<'a, 'b> {
    map: &'b LazyMap<'a>,
    data: &'b CiData,
    error: &'b RefCell<Option<CiError>>,
}

impl Serialize for Writing<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(self.map.entries.len()))?;
        for (key, entry) in &self.map.entries {
            match entry {
                Entry::Ready(value) => m.serialize_entry(key, &Annotated { value, data: self.data })?,
                Entry::Later(build) => match build() {
                    Ok(value) => m.serialize_entry(key, &Annotated { value: &value, data: self.data })?,
                    Err(e) => {
                        let message = e.to_string();
                        *self.error.borrow_mut() = Some(e);
                        return Err(S::Error::custom(message));
                    }
                },
                Entry::Map(map) => m.serialize_entry(key, &Writing { map, data: self.data, error: self.error })?,
            }
        }
        m.end()
    }
}
