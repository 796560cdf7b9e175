//! Resource types (postgres, redis, ...), declared as data in `stdlib/types/*.kdl`.

use indexmap::IndexMap;

use super::ParamValue;
use crate::source::{FileId, Spanned};

/// All known resource types by name (built-in and overlay; an overlay type replaces a built-in
/// one of the same name).
#[derive(Debug, Clone, Default)]
pub struct ResourceTypes {
    pub types: IndexMap<String, ResourceType>,
}

impl ResourceTypes {
    pub fn get(&self, name: &str) -> Option<&ResourceType> {
        self.types.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }
}

/// One resource type: its parameters and the outputs a service can reference.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub file: FileId,
    pub name: Spanned<String>,
    pub description: String,
    /// The TCP port clients connect to (NetworkPolicy egress).
    pub port: u16,
    pub params: IndexMap<String, ParamSpec>,
    pub outputs: IndexMap<String, OutputSpec>,
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Int,
    Bool,
    Memory,
    Duration,
}

impl ParamType {
    pub const ALL: [(&'static str, ParamType); 5] =
        [("string", ParamType::String), ("int", ParamType::Int), ("bool", ParamType::Bool), ("memory", ParamType::Memory), ("duration", ParamType::Duration)];
}

/// `param NAME type=T default=V doc="..." { allowed A B C }`
#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub ty: ParamType,
    /// `None`: the parameter is required.
    pub default: Option<ParamValue>,
    /// Allowed values as written (empty: anything of the type).
    pub allowed: Vec<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub doc: String,
}

/// `output NAME secret=BOOL doc="..."`
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: String,
    /// Secret outputs (passwords, URLs with credentials) reach the workload only through the
    /// secret store, never a ConfigMap.
    pub secret: bool,
    pub doc: String,
}
