//! Generated promtool unit tests (`rules.test.yaml`) for the burn-rate alerts.
//!
//! One scenario of synthetic traffic per window pair of every burn-rate alert (tier), in the
//! namespace the rules cover:
//!
//! 1. good traffic (a warm-up);
//! 2. errors at `silent-at` (0.8) times the pair's threshold (factor x error budget) for longer
//!    than its long window: the alert must stay **silent** (checked at half the window, the
//!    whole window, and the end);
//! 3. errors at `fire-at` (1.25) times the threshold: silent one evaluation before the moment
//!    the alert is expected to **fire**, firing one evaluation after;
//! 4. no errors, stopping just long enough before an evaluation for the pair's short window to
//!    have fallen below the threshold while its long window is still above it: the alert must
//!    be **resolved** there (which only the short window can do).
//!
//! A wrong threshold fires in step 2 or not at all in step 3; a longer long window fires late,
//! a shorter one early; a longer short window is still firing at the end of step 4. The
//! integration tests mutate the generated alerts this way and watch the tests fail.
//!
//! The expected moments come from a small model of Prometheus' evaluation, [`simulate`]: the
//! error ratio over a window is the increase of the error counter over the increase of the
//! request counter between the samples at the window's ends (the synthetic series are linear
//! between samples and evaluations fall on samples, so `rate()` needs no extrapolation; a window
//! reaching before the first sample starts at it, where both counters are 0), and an alert fires
//! once its condition has held for `for`. Comparisons within a hair of a threshold are checked
//! both ways, so rounding cannot flip a check.
//!
//! A scenario must isolate its pair: the tier's other pairs alone must not fire before the
//! checked moment. When they would (the ticket tier's 1d and 3d pairs spend the same share of
//! the budget, so a step of errors crosses both at once), the warm-up runs at 10 (or 100) times
//! the traffic, which dilutes the longer window until only the pair under test reaches its
//! threshold.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};

use super::context::{prom_duration, quote, Scope, SloSpec, Svc};
use super::data::{expand_labels, ObsData, ObservabilityError, PairSpec, TierSpec};
use super::rules::{fmt_factor, le_value, RuleSet, SloAlert};

/// Warm-up traffic multipliers tried, in order, until a scenario isolates its pair.
const DILUTIONS: [u64; 3] = [1, 10, 100];

/// One stretch of synthetic traffic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phase {
    /// Number of samples (one per interval).
    pub steps: u64,
    /// Traffic multiplier.
    pub mult: u64,
    /// Share of failed (or slow) requests.
    pub ratio: f64,
}

/// Synthetic traffic: counters sampled every `interval_ms`, starting at 0 at time 0.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub interval_ms: u64,
    /// Requests per sample at multiplier 1.
    pub per_step: u64,
    pub phases: Vec<Phase>,
}

/// Cumulative counters at each sample.
#[derive(Debug, Clone)]
pub(crate) struct Counters {
    pub total: Vec<u64>,
    pub errors: Vec<u64>,
}

impl Scenario {
    /// Requests and errors added per sample in each phase.
    fn increments(&self) -> Vec<(u64, u64, u64)> {
        self.phases
            .iter()
            .map(|p| {
                let t = self.per_step * p.mult;
                let e = ((t as f64) * p.ratio).round() as u64;
                (p.steps, t, e.min(t))
            })
            .collect()
    }

    pub(crate) fn counters(&self) -> Counters {
        let mut total = vec![0u64];
        let mut errors = vec![0u64];
        for (steps, t, e) in self.increments() {
            for _ in 0..steps {
                total.push(total.last().copied().unwrap_or(0) + t);
                errors.push(errors.last().copied().unwrap_or(0) + e);
            }
        }
        Counters { total, errors }
    }

    /// Time of the last sample.
    pub(crate) fn end_ms(&self) -> u64 {
        self.phases.iter().map(|p| p.steps).sum::<u64>() * self.interval_ms
    }

    /// promtool's expanding notation for the good (`errors == false`) or failed requests.
    pub(crate) fn values(&self, failed: bool) -> String {
        let mut parts = vec!["0".to_string()];
        let mut v: u64 = 0;
        for (steps, t, e) in self.increments() {
            if steps == 0 {
                continue;
            }
            let d = if failed { e } else { t - e };
            if d == 0 {
                parts.push(format!("{v}x{}", steps - 1));
            } else {
                parts.push(format!("{}+{d}x{}", v + d, steps - 1));
            }
            v += d * steps;
        }
        parts.join(" ")
    }

    /// Cumulative total requests (for histogram _count and +Inf buckets).
    pub(crate) fn values_total(&self) -> String {
        let mut parts = vec!["0".to_string()];
        let mut v: u64 = 0;
        for (steps, t, _) in self.increments() {
            if steps == 0 {
                continue;
            }
            parts.push(format!("{}+{t}x{}", v + t, steps - 1));
            v += t * steps;
        }
        parts.join(" ")
    }
}

/// The error ratio over `window_ms` at time `t_ms`, as `rate(errors) / rate(total)` gives it,
/// or `None` when Prometheus would return no sample.
pub(crate) fn ratio(c: &Counters, interval_ms: u64, t_ms: u64, window_ms: u64) -> Option<f64> {
    let k = (t_ms / interval_ms) as usize;
    if k == 0 || k >= c.total.len() {
        return None;
    }
    // A window reaching before the first sample starts at it: both counters start at 0, so
    // Prometheus does not extrapolate them towards the window's start.
    let k0 = if t_ms >= window_ms { ((t_ms - window_ms) / interval_ms) as usize } else { 0 };
    let dn = c.total[k] - c.total[k0];
    if dn == 0 {
        return None;
    }
    Some((c.errors[k] - c.errors[k0]) as f64 / dn as f64)
}

/// Relative margin around a threshold within which the model may disagree with Prometheus:
/// floating-point rounding, and how Prometheus versions extrapolate `rate()` at a window's
/// start (2.x includes the sample at the window's start, 3.x does not and extrapolates).
pub(crate) const MARGIN: f64 = 0.01;

/// Whether the alert made of `pairs` fires at each evaluation `0, eval, 2 eval, ...` up to
/// `end_ms`. A ratio within [`MARGIN`] of a threshold counts as above it when `optimistic`, as
/// below it otherwise: checks that hold under both hold whatever the rounding.
#[allow(clippy::too_many_arguments)]
pub(crate) fn simulate(c: &Counters, interval_ms: u64, pairs: &[PairSpec], budget: f64, for_ms: u64, eval_ms: u64, end_ms: u64, optimistic: bool) -> Vec<bool> {
    let slack = if optimistic { 1.0 - MARGIN } else { 1.0 + MARGIN };
    let mut out = Vec::new();
    let mut active_since: Option<u64> = None;
    let mut t = 0;
    while t <= end_ms {
        let cond = pairs.iter().any(|p| {
            let thr = p.factor * budget * slack;
            let above = |w| ratio(c, interval_ms, t, w).is_some_and(|r| r > thr);
            above(p.long_ms) && above(p.short_ms)
        });
        if cond {
            let since = *active_since.get_or_insert(t);
            out.push(t - since >= for_ms);
        } else {
            active_since = None;
            out.push(false);
        }
        t += eval_ms;
    }
    out
}

fn round_up(v: u64, m: u64) -> u64 {
    v.div_ceil(m) * m
}

/// What a search for scenarios depends on: the tier (windows, `for`, test interval), the
/// alert's window pairs and the error budget. The rest (evaluation interval, traffic, fire-at
/// and silent-at) is the same for every service of a build.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CaseKey {
    tier: usize,
    /// (long window, short window, factor as bits) per pair.
    pairs: Vec<(u64, u64, u64)>,
    budget: u64,
}

/// Scenarios found per [`CaseKey`], shared by every service of a build (and its threads).
///
/// The search simulates Prometheus over many candidate scenarios and is by far the costliest
/// part of emitting observability; a monorepo has thousands of services but only a handful of
/// distinct objectives, so each search runs once per objective instead of once per service
/// and environment. The lock is not held while searching: two threads may search the same key
/// at once and find the same (deterministic) result.
#[derive(Default)]
pub struct CaseCache(Mutex<HashMap<CaseKey, Arc<Vec<Option<Case>>>>>);

impl CaseCache {
    fn get_or_search(&self, key: CaseKey, search: impl FnOnce() -> Vec<Option<Case>>) -> Arc<Vec<Option<Case>>> {
        if let Some(found) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return found.clone();
        }
        let found = Arc::new(search());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(found).clone()
    }
}

impl Clone for CaseCache {
    /// A copy of the data starts with an empty cache.
    fn clone(&self) -> Self {
        CaseCache::default()
    }
}

impl std::fmt::Debug for CaseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "CaseCache({n} searches)")
    }
}

/// One generated test: a scenario and the alert states checked.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub name: String,
    pub scenario: Scenario,
    /// (evaluation time, firing).
    pub checks: Vec<(u64, bool)>,
}

struct Ctx<'a> {
    tier: &'a TierSpec,
    pairs: &'a [PairSpec],
    budget: f64,
    eval_ms: u64,
    per_step: u64,
    fire_at: f64,
    silent_at: f64,
}

impl Ctx<'_> {
    /// Warm-up lengths tried: a share `1 - 1/fire-at` of the tier's longest window (enough
    /// good traffic to dilute it, see [`DILUTIONS`]), then a whole longest window.
    fn warmups(&self) -> [u64; 2] {
        let longest = self.pairs.iter().map(|p| p.long_ms).max().unwrap_or(0);
        let short = (longest as f64 * (1.0 - 1.0 / self.fire_at)) as u64 + 2 * self.eval_ms;
        [round_up(short, self.eval_ms), round_up(longest, self.eval_ms)]
    }

    fn states(&self, s: &Scenario, pairs: &[PairSpec], optimistic: bool) -> Vec<bool> {
        simulate(&s.counters(), s.interval_ms, pairs, self.budget, self.tier.for_ms, self.eval_ms, s.end_ms(), optimistic)
    }

    /// Good traffic for `warmup` at `mult` times the usual rate, then the phases
    /// (duration, error ratio) at the usual rate.
    fn scenario(&self, warmup: u64, mult: u64, phases: &[(u64, f64)]) -> Scenario {
        let interval = self.tier.test_interval_ms;
        let mut all = vec![Phase { steps: warmup / interval, mult, ratio: 0.0 }];
        all.extend(phases.iter().map(|&(d, r)| Phase { steps: d / interval, mult: 1, ratio: r }));
        Scenario { interval_ms: interval, per_step: self.per_step, phases: all }
    }

    /// One scenario per pair: errors just below the pair's threshold for a whole long window
    /// (silent), then just above it (silent one evaluation before the expected moment, firing
    /// at it), then none, stopping just long enough before an evaluation for the pair's short
    /// window, and no longer one, to have dropped below the threshold (resolved). The second
    /// value says whether the firing moment is sharp (the same for both models of
    /// [`simulate`]); if not, the checks leave one evaluation of room on each side.
    fn case(&self, i: usize, warmup: u64, mult: u64) -> Option<(Case, bool)> {
        let p = self.pairs[i];
        let (e, step, thr) = (self.eval_ms, self.tier.test_interval_ms, p.factor * self.budget);
        let (low, high) = (self.silent_at * thr, (self.fire_at * thr).min((thr + 1.0) / 2.0));
        let below = round_up(p.long_ms + self.tier.for_ms + 2 * e, e);
        let rise = warmup + below;
        let at = |t: u64| (t / e) as usize;
        let first_at = |states: &[bool]| (at(rise) + 1..states.len()).find(|&j| states[j]).map(|j| j as u64 * e);
        // When does it surely fire, with errors above the threshold for as long as it may take?
        let probe = self.scenario(warmup, mult, &[(below, low), (round_up(p.long_ms + self.tier.for_ms + 2 * e, e), high)]);
        let first = first_at(&self.states(&probe, self.pairs, false))?;
        // After the errors stop, the short window's ratio falls below the threshold once a share
        // 1 - thr/high of it has passed: the first sample after that.
        let recover = round_up((p.short_ms as f64 * (1.0 - thr * (1.0 - MARGIN) / high)) as u64 + 1, step);
        // The errors go on until the long window stays clearly above the threshold for that
        // long: then only the short window can end the alert at the check.
        let build = |stop: u64| self.scenario(warmup, mult, &[(below, low), (stop - rise, high), (recover + e, 0.0)]);
        let long_holds = |s: &Scenario, stop: u64| ratio(&s.counters(), s.interval_ms, stop + recover, p.long_ms).is_some_and(|r| r > thr * 1.05);
        let (s, stop) = (0..=2 * p.long_ms / e).map(|k| round_up(first + e + recover + k * e, e) - recover).map(|stop| (build(stop), stop)).find(|(s, stop)| long_holds(s, *stop))?;
        let (may, must) = (self.states(&s, self.pairs, true), self.states(&s, self.pairs, false));
        let earliest = first_at(&may)?;
        let sharp = earliest == first;
        let fired = if sharp { first } else { first + e };
        let others: Vec<PairSpec> = self.pairs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, q)| *q).collect();
        let rest = self.states(&s, &others, true);
        // Silent below the threshold, firing above it, resolved by the short window, and the
        // tier's other pairs alone would not have fired by then: the pair under test decides.
        if may[..=at(rise)].iter().any(|&f| f) || !must[at(fired)] || rest[..=at(fired)].iter().any(|&f| f) || may[at(stop + recover)] {
            return None;
        }
        let mut checks: Vec<(u64, bool)> = Vec::new();
        for t in [round_up(warmup + p.long_ms / 2, e), round_up(warmup + p.long_ms, e), rise / e * e] {
            if checks.last().is_none_or(|&(last, _)| t > last) {
                checks.push((t, false));
            }
        }
        if earliest - e > rise {
            checks.push((earliest - e, false));
        }
        checks.push((fired, true));
        checks.push((stop + recover, false));
        let name = format!(
            "{{alert}}, {}/{} pair (threshold {} x {}): silent at error ratio {} ({}x) from {}, fires at {} ({}x) from {}, errors stop at {}{}",
            prom_duration(p.long_ms),
            prom_duration(p.short_ms),
            fmt_factor(p.factor),
            self.budget,
            fmt_ratio(&s, 1),
            self.silent_at,
            prom_duration(warmup),
            fmt_ratio(&s, 2),
            self.fire_at,
            prom_duration(rise),
            prom_duration(stop),
            dilution_note(mult),
        );
        Some((Case { name, scenario: s, checks }, sharp))
    }

    /// The first scenario that works, preferring one whose firing moment is sharp: the short
    /// warm-up, then more diluting traffic, then the long warm-up; each shifted by a few
    /// samples until the threshold is crossed clearly between two evaluations.
    fn first_case(&self, i: usize) -> Option<Case> {
        let step = self.tier.test_interval_ms;
        let mut fallback = None;
        for w in self.warmups() {
            for m in DILUTIONS {
                for offset in (0..self.eval_ms).step_by(step as usize) {
                    match self.case(i, w + offset, m) {
                        Some((c, true)) => return Some(c),
                        Some((c, false)) if fallback.is_none() => fallback = Some(c),
                        _ => {}
                    }
                }
            }
        }
        fallback
    }
}

fn dilution_note(mult: u64) -> String {
    if mult == 1 {
        String::new()
    } else {
        format!(" (warm-up at {mult}x traffic)")
    }
}

fn fmt_ratio(s: &Scenario, phase: usize) -> String {
    let t = s.per_step * s.phases[phase].mult;
    let e = ((t as f64) * s.phases[phase].ratio).round() as u64;
    format!("{}", e as f64 / t as f64)
}

/// The cases of one burn-rate alert.
pub(crate) fn cases(data: &ObsData, alert: &SloAlert, slo: &SloSpec) -> Result<Vec<Case>, ObservabilityError> {
    let tier = &data.tiers[alert.tier];
    let ut = &data.slo.unit_tests;
    let per_step = ut.requests_per_minute.saturating_mul(tier.test_interval_ms) / 60_000;
    let cx = Ctx { tier, pairs: &alert.pairs, budget: slo.budget.as_f64(), eval_ms: data.eval_interval_ms, per_step: per_step.max(1), fire_at: ut.fire_at, silent_at: ut.silent_at };
    let key = CaseKey { tier: alert.tier, pairs: alert.pairs.iter().map(|p| (p.long_ms, p.short_ms, p.factor.to_bits())).collect(), budget: cx.budget.to_bits() };
    let found = data.cases.get_or_search(key, || (0..alert.pairs.len()).map(|i| cx.first_case(i)).collect());
    let mut out = Vec::new();
    for (p, case) in alert.pairs.iter().zip(found.iter()) {
        let case = case.clone().ok_or_else(|| ObservabilityError {
            file: data.slo_file.clone(),
            message: format!(
                "{}: cannot build a unit test isolating the {}/{} pair (factor {}) with objective {}; check the tier's windows, `for` and unit-tests settings",
                alert.name,
                prom_duration(p.long_ms),
                prom_duration(p.short_ms),
                p.factor,
                slo.objective
            ),
        })?;
        out.push(case);
    }
    Ok(out)
}

/// The promtool test file of a rule set: `rule_files` names `rule_file` (relative to the test).
pub(crate) fn test_file(data: &ObsData, svc: &Svc, scope: &Scope, rules: &RuleSet, rule_file: &str) -> Result<Json, ObservabilityError> {
    let label = &data.settings.service_label;
    let mut tests = Vec::new();
    for alert in &rules.slo_alerts {
        let slo = &svc.slos[alert.slo];
        let Some((_, m)) = svc.protocol else { continue };
        let mut series_labels = BTreeMap::new();
        series_labels.insert("namespace".to_string(), scope.test_namespace.clone());
        series_labels.insert(label.clone(), svc.name.clone());
        series_labels.insert("slo".to_string(), slo.key.to_string());
        let mut exp_labels = series_labels.clone();
        exp_labels.extend(alert.labels.clone());
        let exp_annotations: BTreeMap<String, String> = alert.annotations.iter().map(|(k, v)| (k.clone(), expand_labels(v, &exp_labels))).collect();
        let base = [("namespace".to_string(), scope.test_namespace.clone()), (label.clone(), svc.name.clone())];
        for case in cases(data, alert, slo)? {
            let s = &case.scenario;
            let series = match slo.threshold_ms {
                None => {
                    let with = |extra: &indexmap::IndexMap<String, String>| {
                        let all: Vec<(String, String)> = base.iter().cloned().chain(extra.iter().map(|(k, v)| (k.clone(), v.clone()))).collect();
                        series_name(&m.requests, &all)
                    };
                    vec![json!({"series": with(&m.ok_example), "values": s.values(false)}), json!({"series": with(&m.error_example), "values": s.values(true)})]
                }
                Some(t) => {
                    let le = |v: &str| {
                        let mut all = base.to_vec();
                        all.push(("le".to_string(), v.to_string()));
                        series_name(&format!("{}_bucket", m.duration), &all)
                    };
                    vec![
                        json!({"series": le(&le_value(t, m.duration_unit)), "values": s.values(false)}),
                        json!({"series": le("+Inf"), "values": s.values_total()}),
                        json!({"series": series_name(&format!("{}_count", m.duration), &base), "values": s.values_total()}),
                    ]
                }
            };
            let checks: Vec<Json> = case
                .checks
                .iter()
                .map(|&(t, firing)| {
                    let exp = if firing { vec![json!({"exp_labels": exp_labels, "exp_annotations": exp_annotations})] } else { Vec::new() };
                    json!({"eval_time": prom_duration(t), "alertname": alert.name, "exp_alerts": exp})
                })
                .collect();
            tests.push(json!({
                "name": case.name.replace("{alert}", &alert.name),
                "interval": prom_duration(s.interval_ms),
                "input_series": series,
                "alert_rule_test": checks,
            }));
        }
    }
    // promtool evaluates groups in an unspecified order unless told: the recording rules must
    // run before the alerts that read them at the same evaluation.
    let order: Vec<&str> = rules.groups.iter().map(|g| g.name.as_str()).collect();
    Ok(json!({
        "rule_files": [rule_file],
        "evaluation_interval": prom_duration(data.eval_interval_ms),
        "group_eval_order": order,
        "tests": tests,
    }))
}

/// `metric{a="b", ...}` as promtool's series notation.
fn series_name(metric: &str, labels: &[(String, String)]) -> String {
    let ls: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
    format!("{metric}{{{}}}", ls.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier() -> TierSpec {
        TierSpec {
            alert: "A".into(),
            severity: "critical".into(),
            for_ms: 120_000,
            pairs: vec![PairSpec { long_ms: 3_600_000, short_ms: 300_000, factor: 14.4 }, PairSpec { long_ms: 21_600_000, short_ms: 1_800_000, factor: 6.0 }],
            summary: String::new(),
            description: String::new(),
            test_interval_ms: 60_000,
        }
    }

    #[test]
    fn series_notation_matches_the_counters() {
        let s = Scenario { interval_ms: 60_000, per_step: 100, phases: vec![Phase { steps: 3, mult: 2, ratio: 0.0 }, Phase { steps: 2, mult: 1, ratio: 0.1 }] };
        assert_eq!(s.values(false), "0 200+200x2 690+90x1");
        assert_eq!(s.values(true), "0 0x2 10+10x1");
        assert_eq!(s.values_total(), "0 200+200x2 700+100x1");
        let c = s.counters();
        assert_eq!(c.total, vec![0, 200, 400, 600, 700, 800]);
        assert_eq!(c.errors, vec![0, 0, 0, 0, 10, 20]);
        assert_eq!(ratio(&c, 60_000, 300_000, 120_000), Some(0.1));
        assert_eq!(ratio(&c, 60_000, 0, 120_000), None);
    }

    #[test]
    fn a_step_of_errors_fires_after_the_expected_share_of_the_long_window() {
        // 99.9%: threshold 14.4 x 0.001 = 0.0144 over 1h/5m. Errors at 0.8x it for a whole
        // window stay silent; at 1.25x (0.018) the hour's ratio, 0.01152 * (60 - d) / 60 +
        // 0.018 * d / 60, crosses 0.0144 after d = 26.7 minutes.
        let t = tier();
        let cx = Ctx { tier: &t, pairs: &t.pairs, budget: 0.001, eval_ms: 300_000, per_step: 1_000_000, fire_at: 1.25, silent_at: 0.8 };
        let warmup = 6 * 3_600_000;
        let (case, _) = cx.case(0, warmup, 1).expect("isolating scenario");
        let rise = warmup + 75 * 60_000; // 1h + for 2m + 2 evaluations, rounded to 5m
        let silent: Vec<u64> = case.checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
        assert_eq!(&silent[..3], &[warmup + 30 * 60_000, warmup + 60 * 60_000, rise]);
        let firing: Vec<u64> = case.checks.iter().filter(|c| c.1).map(|c| c.0).collect();
        // Condition first true at 30m (clearly: 0.01476 > 0.0144 + 1%, and at 25m 0.01422 <
        // 0.0144 - 1%), firing at 35m (`for: 2m`), checked there; silent at 30m.
        assert_eq!(firing, vec![rise + 35 * 60_000]);
        assert!(silent.contains(&(rise + 30 * 60_000)), "{silent:?}");
        // The errors stop 2 minutes before an evaluation: the 5m window is then below the
        // threshold, a 30m one would not be.
        let last = *case.checks.last().unwrap();
        assert!(!last.1 && last.0 % 300_000 == 0 && last.0 > rise + 35 * 60_000);
        assert!(cx.first_case(0).is_some());
    }
}
