//! Effective settings of a service in one environment: platform defaults, then the service's
//! base values, then its `environment` override, field by field. Each value remembers the file
//! and span it came from, so that a problem found only after merging (a request above a limit
//! set elsewhere) still points at the lines that caused it.

use super::{Cpu, EnvVar, Memory, Percent, Platform, ResourceSpec, ScaleSpec, Service};
use crate::source::{FileId, Span, Spanned};

/// A value and where it was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct At<T> {
    /// The value in force.
    pub value: T,
    /// The file that set it: platform.kdl for a default.
    pub file: FileId,
    /// Where in that file; the platform's name for a built-in default.
    pub span: Span,
}

/// Effective CPU and memory of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    /// The CPU request.
    pub cpu: At<Cpu>,
    /// The memory request.
    pub memory: At<Memory>,
    /// The CPU limit (raised to the request when only a default was below it).
    pub cpu_limit: At<Cpu>,
    /// The memory limit (raised to the request when only a default was below it).
    pub memory_limit: At<Memory>,
}

/// Effective replica bounds and autoscaling targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// Replicas, and the autoscaler's minimum.
    pub min: At<u32>,
    /// The autoscaler's maximum (raised to `min` when only a default was below it).
    pub max: At<u32>,
    /// Target average CPU utilization of the requests, when any layer sets one.
    pub cpu: Option<At<Percent>>,
    /// Target average memory utilization, when any layer sets one.
    pub memory: Option<At<Percent>>,
}

/// Picks the most specific of several optional layers, most specific last.
fn pick<T: Copy>(layers: &[(FileId, &Option<Spanned<T>>)], fallback: At<T>) -> At<T> {
    layers.iter().rev().find_map(|(file, v)| v.as_ref().map(|v| At { value: v.value, file: *file, span: v.span })).unwrap_or(fallback)
}

fn pick_opt<T: Copy>(layers: &[(FileId, &Option<Spanned<T>>)]) -> Option<At<T>> {
    layers.iter().rev().find_map(|(file, v)| v.as_ref().map(|v| At { value: v.value, file: *file, span: v.span }))
}

/// Resources of a container: platform defaults < `base` < `over`.
pub fn resources(platform: &Platform, file: FileId, base: &ResourceSpec, over: Option<&ResourceSpec>) -> Resources {
    let d = &platform.defaults.resources;
    let none = ResourceSpec::default();
    let over = over.unwrap_or(&none);
    let at_platform = |span: Option<Span>| span.filter(|s| !s.is_empty()).unwrap_or(platform.name.span);
    let pf = platform.file;
    Resources {
        cpu: pick(&[(pf, &d.cpu), (file, &base.cpu), (file, &over.cpu)], At { value: Cpu(100), file: pf, span: at_platform(None) }),
        memory: pick(&[(pf, &d.memory), (file, &base.memory), (file, &over.memory)], At { value: Memory(128 << 20), file: pf, span: at_platform(None) }),
        cpu_limit: pick(&[(pf, &d.cpu_limit), (file, &base.cpu_limit), (file, &over.cpu_limit)], At { value: Cpu(500), file: pf, span: at_platform(None) }),
        memory_limit: pick(&[(pf, &d.memory_limit), (file, &base.memory_limit), (file, &over.memory_limit)], At { value: Memory(256 << 20), file: pf, span: at_platform(None) }),
    }
    .with_platform_spans(platform)
    .limits_follow_requests(pf)
}

impl Resources {
    /// A request written in a spec above a limit that only comes from the platform defaults
    /// raises that limit: the author asked for the request, nobody asked for that limit. A
    /// limit written in a spec is never raised (the checker reports the conflict).
    fn limits_follow_requests(mut self, platform_file: FileId) -> Self {
        if self.cpu_limit.file == platform_file && self.cpu.file != platform_file && self.cpu.value > self.cpu_limit.value {
            self.cpu_limit = self.cpu;
        }
        if self.memory_limit.file == platform_file && self.memory.file != platform_file && self.memory.value > self.memory_limit.value {
            self.memory_limit = self.memory;
        }
        self
    }

    /// Built-in defaults have no place in platform.kdl; point them at the platform's name.
    fn with_platform_spans(mut self, platform: &Platform) -> Self {
        for span in [&mut self.cpu.span, &mut self.memory.span, &mut self.cpu_limit.span, &mut self.memory_limit.span] {
            if span.is_empty() {
                *span = platform.name.span;
            }
        }
        self
    }
}

/// Scale of the web process in `env`.
pub fn scale(platform: &Platform, s: &Service, env: &str) -> Scale {
    let d = &platform.defaults.scale;
    let none = ScaleSpec::default();
    let over = s.overrides.iter().find(|o| o.environment.value == env).map(|o| &o.scale).unwrap_or(&none);
    let pf = platform.file;
    let fallback = |v: u32| At { value: v, file: pf, span: platform.name.span };
    let mut sc = Scale {
        min: pick(&[(pf, &d.min), (s.file, &s.scale.min), (s.file, &over.min)], fallback(1)),
        max: pick(&[(pf, &d.max), (s.file, &s.scale.max), (s.file, &over.max)], fallback(3)),
        cpu: pick_opt(&[(pf, &d.cpu), (s.file, &s.scale.cpu), (s.file, &over.cpu)]),
        memory: pick_opt(&[(pf, &d.memory), (s.file, &s.scale.memory), (s.file, &over.memory)]),
    };
    for span in [&mut sc.min.span, &mut sc.max.span] {
        if span.is_empty() {
            *span = platform.name.span;
        }
    }
    // A service that only raises `min` above the default max means "at least this many":
    // the max follows, instead of producing an impossible HPA.
    if sc.min.value > sc.max.value && sc.max.file == pf && sc.min.file != pf {
        sc.max = At { value: sc.min.value, ..sc.min };
    }
    sc
}

/// Resources of the web process in `env`.
pub fn web_resources(platform: &Platform, s: &Service, env: &str) -> Resources {
    let over = s.overrides.iter().find(|o| o.environment.value == env).map(|o| &o.resources);
    resources(platform, s.file, &s.resources, over)
}

/// Env vars of the web process in `env`: base vars, with the override's vars replacing those
/// of the same name (in place) and adding new ones at the end.
pub fn env_vars<'a>(s: &'a Service, env: &str) -> Vec<&'a EnvVar> {
    let mut out: Vec<&EnvVar> = s.env.iter().collect();
    if let Some(o) = s.overrides.iter().find(|o| o.environment.value == env) {
        for v in &o.env {
            match out.iter().position(|e| e.name.value == v.name.value) {
                Some(i) => out[i] = v,
                None => out.push(v),
            }
        }
    }
    out
}
