//! Checks on effective settings (platform defaults < service < environment override): a
//! request above a limit or a minimum above a maximum may only appear after merging, with the
//! two values written in different places. Both places are labelled.

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::{effective, At, Platform, Resources, Service};

/// Checks the base settings of every process, then each environment override that changes
/// them; an override's problem is reported once, naming its environment.
pub(crate) fn check(platform: &Platform, s: &Service, diags: &mut Diagnostics) {
    let base = effective::resources(platform, s.file, &s.resources, None);
    check_resources(&base, None, &base, diags);
    for p in &s.processes {
        let r = effective::resources(platform, s.file, &p.resources, None);
        check_resources(&r, None, &r, diags);
    }
    let base_scale = effective::scale(platform, s, "");
    check_scale(&base_scale, None, diags);
    for o in &s.overrides {
        let env = o.environment.value.as_str();
        let r = effective::web_resources(platform, s, env);
        check_resources(&r, Some(env), &base, diags);
        let sc = effective::scale(platform, s, env);
        if sc != base_scale {
            check_scale(&sc, Some(env), diags);
        }
    }
}

fn label<T: std::fmt::Display>(a: &At<T>, what: &str) -> Label {
    Label::new(a.file, a.span, format!("{what} {}", a.value))
}

fn check_resources(r: &Resources, env: Option<&str>, base: &Resources, diags: &mut Diagnostics) {
    let in_env = env.map(|e| format!(" in `{e}`")).unwrap_or_default();
    // In an environment, report only what its override changed (the base was checked).
    let new_cpu = env.is_none() || r.cpu.span != base.cpu.span || r.cpu_limit.span != base.cpu_limit.span;
    let new_mem = env.is_none() || r.memory.span != base.memory.span || r.memory_limit.span != base.memory_limit.span;
    if r.cpu.value > r.cpu_limit.value && new_cpu {
        diags.push(
            Diagnostic::new(codes::REQUEST_ABOVE_LIMIT, label(&r.cpu, "request"), format!("CPU request is greater than the CPU limit{in_env}"))
                .with_label(label(&r.cpu_limit, "limit"))
                .with_help(format!("lower the request to at most {} or set cpu-limit=\"{}\" next to it", r.cpu_limit.value, r.cpu.value)),
        );
    }
    if r.memory.value > r.memory_limit.value && new_mem {
        diags.push(
            Diagnostic::new(codes::REQUEST_ABOVE_LIMIT, label(&r.memory, "request"), format!("memory request is greater than the memory limit{in_env}"))
                .with_label(label(&r.memory_limit, "limit"))
                .with_help(format!("lower the request to at most {} or set memory-limit=\"{}\" next to it", r.memory_limit.value, r.memory.value)),
        );
    }
}

fn check_scale(sc: &effective::Scale, env: Option<&str>, diags: &mut Diagnostics) {
    if sc.min.value > sc.max.value {
        let in_env = env.map(|e| format!(" in `{e}`")).unwrap_or_default();
        diags.push(
            Diagnostic::new(codes::MIN_ABOVE_MAX, label(&sc.min, "min"), format!("minimum replicas are greater than maximum replicas{in_env}"))
                .with_label(label(&sc.max, "max"))
                .with_help(format!("make min at most {} or max at least {}", sc.max.value, sc.min.value)),
        );
    }
}
