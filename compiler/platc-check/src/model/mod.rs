//! The typed model: what checking produces and the resolve stage ([`crate::resolve`]) reads;
//! backends see these types only inside the resolved model (`ResolvedService::spec`, the
//! platform), never the `Workspace`.
//!
//! Values here are already validated (units parsed, names checked, references resolved to
//! things that exist). Spans are kept where a later stage may still need to point at the spec
//! (graph cycles, patches that match nothing, policies).

pub mod effective;
mod platform;
mod resource_type;
mod service;
mod units;

pub use effective::*;
pub use platform::*;
pub use resource_type::*;
pub use service::*;
pub use units::*;

/// Everything one run of the checker produced: the platform, every service and the resource
/// types they were checked against.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The one platform of the run.
    pub platform: Platform,
    /// Every service checked.
    pub services: Vec<Service>,
    /// The resource types the services were checked against.
    pub types: ResourceTypes,
}
