//! Resource types (postgres, redis, ...), declared as data in `stdlib/types/*.kdl`.

use indexmap::IndexMap;

use super::{ParamValue, Provisioner};
use crate::source::{FileId, Spanned};

/// All known resource types by name (built-in and overlay; an overlay type replaces a built-in
/// one of the same name).
#[derive(Debug, Clone, Default)]
pub struct ResourceTypes {
    /// Each type by name.
    pub types: IndexMap<String, ResourceType>,
}

impl ResourceTypes {
    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&ResourceType> {
        self.types.get(name)
    }

    /// The names of every known type.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }
}

/// One resource type: its parameters and the outputs a service can reference.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// The file that declared it: a built-in `types/NAME.kdl` or an overlay's.
    pub file: FileId,
    /// The type's name, what `uses TYPE` names.
    pub name: Spanned<String>,
    /// One line describing the type, for documentation (empty when not written).
    pub description: String,
    /// The TCP port clients connect to (NetworkPolicy egress), unless `provisioner_ports`
    /// says otherwise for the provisioner serving it: read it with [`ResourceType::port_for`].
    pub port: u16,
    /// `provisioner NAME port=N`: the port where one provisioner's server listens elsewhere
    /// (an emulator in-cluster on 5000 for a cloud API on 443; Amazon MQ on 5671 for
    /// RabbitMQ's 5672), in the order written.
    pub provisioner_ports: Vec<(Provisioner, Spanned<u16>)>,
    /// Its parameters by name, in declaration order.
    pub params: IndexMap<String, ParamSpec>,
    /// Its outputs by name, in declaration order.
    pub outputs: IndexMap<String, OutputSpec>,
}

impl ResourceType {
    /// The port clients connect to when `provisioner` serves the resource: the type's
    /// `provisioner` entry for it, else `port=`.
    pub fn port_for(&self, provisioner: Provisioner) -> u16 {
        self.provisioner_ports.iter().find(|(p, _)| *p == provisioner).map_or(self.port, |(_, port)| port.value)
    }
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text; a number written bare is taken as text too (`version=16`).
    String,
    /// A whole number, within `min` and `max` when given.
    Int,
    /// `#true` or `#false`.
    Bool,
    /// A memory quantity, e.g. `"20Gi"`.
    Memory,
    /// A duration, e.g. `"30s"`.
    Duration,
}

impl ParamType {
    /// Each type with the name `type=` writes it with.
    pub const ALL: [(&'static str, ParamType); 5] =
        [("string", ParamType::String), ("int", ParamType::Int), ("bool", ParamType::Bool), ("memory", ParamType::Memory), ("duration", ParamType::Duration)];
}

/// `param NAME type=T default=V doc="..." { allowed A B C }`
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// The parameter's name: a property of `uses`.
    pub name: String,
    /// The kind of value it takes.
    pub ty: ParamType,
    /// `None`: the parameter is required.
    pub default: Option<ParamValue>,
    /// Allowed values as written (empty: anything of the type).
    pub allowed: Vec<String>,
    /// The lowest value of an `int` parameter, when bounded.
    pub min: Option<i64>,
    /// The highest value of an `int` parameter, when bounded.
    pub max: Option<i64>,
    /// What the parameter does, for help texts.
    pub doc: String,
}

/// `output NAME secret=BOOL doc="..."`
#[derive(Debug, Clone)]
pub struct OutputSpec {
    /// The output's name: the `OUTPUT` of `${resources.NAME.OUTPUT}`.
    pub name: String,
    /// Secret outputs (passwords, URLs with credentials) reach the workload only through the
    /// secret store, never a ConfigMap.
    pub secret: bool,
    /// What the output holds.
    pub doc: String,
}
