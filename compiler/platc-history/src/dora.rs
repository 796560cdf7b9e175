//! Delivery metrics from a GitOps repository's history, per service and environment.
//!
//! Events, in the history's order (`git log --topo-order --reverse`, parents first):
//!
//! - a **publish** is a commit with `Platc-Deploy` trailers; each trailer is one deployment of
//!   that service in that environment at the commit's committer time, of the source commit
//!   named by `Platc-Source-Commit` / `Platc-Source-Time`;
//! - a **revert** is a commit whose message says `This reverts commit SHA` (as `git revert`
//!   writes it) of a publish: every deployment of that publish failed.
//!
//! A deployment also failed when it was **rolled back**: a later publish of the same service
//! and environment deploys a source commit older (by source time) than the one live at that
//! moment. The live deployment is the latest one not reverted.
//!
//! - deployment frequency: deployments in the window / days of the window; the window runs from
//!   `--since` (or the first publish in the repository) to the newest commit, and counts as at
//!   least one day;
//! - lead time for changes: median of publish time minus source time, over the deployments of
//!   the window whose source time is known, rollbacks excluded (they deliver no change);
//! - change failure rate: failed deployments / deployments of the window;
//! - time to restore: median, over the failed deployments of the window, of the time from the
//!   failed deployment to the next publish of that service and environment or the revert of
//!   the failed publish, whichever comes first (a revert, or the rollback publish, always
//!   follows a failure, so every failure has a time to restore).
//!
//! A deployment whose source time is after its publish time (a clock that is wrong somewhere)
//! has no lead time: it is left out of the median and counted as clock skew.
//!
//! Previews (`Platc-Preview: SERVICE/INSTANCE`) are not deployments of an environment: each
//! instance is reported apart, with its deployments and when it was opened and torn down
//! (`Platc-Remove`). A teardown is never a deployment.
//!
//! Time to first deploy, per service: from the commit that added its spec (the
//! `Platc-First-Commit` trailer of its first deployment to a protected environment) to that
//! deployment. It is a fact of the whole history, not of the window.
//!
//! Medians of an even count are the mean of the two middle values, rounded down to a second.
//! Rates are rounded to four decimal places.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use super::git::Git;
use super::time::{format_duration, format_utc};
use super::trailers::{self, Unit};

/// One commit of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full commit id.
    pub sha: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// The message's trailers as (key, value), in order, continuation lines unfolded.
    pub trailers: Vec<(String, String)>,
    /// The whole message.
    pub message: String,
}

/// Reads the history of HEAD, parents before children. A repository without commits has an
/// empty history.
pub fn read(git: &Git) -> Result<Vec<Commit>, String> {
    if git.head()?.is_none() {
        return Ok(Vec::new());
    }
    let text = git.ok(&["log", "--topo-order", "--reverse", "--no-color", "--format=%H%x1f%ct%x1f%(trailers:only,unfold)%x1f%B%x1e"])?;
    let mut commits = Vec::new();
    for record in text.split('\x1e') {
        let record = record.trim_start_matches(['\n', '\r']);
        if record.is_empty() {
            continue;
        }
        let mut f = record.splitn(4, '\x1f');
        let (Some(sha), Some(time), Some(tr), Some(message)) = (f.next(), f.next(), f.next(), f.next()) else {
            return Err(format!("cannot read `git log` output near `{}`", record.chars().take(60).collect::<String>()));
        };
        let time = time.trim().parse().map_err(|_| format!("commit {sha}: cannot read its time `{time}`"))?;
        commits.push(Commit { sha: sha.trim().to_string(), time, trailers: trailers::parse(tr), message: message.to_string() });
    }
    Ok(commits)
}

/// The commits a message says it reverts (`This reverts commit SHA.`).
pub fn reverted(message: &str) -> Vec<String> {
    const MARK: &str = "This reverts commit ";
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(i) = rest.find(MARK) {
        rest = &rest[i + MARK.len()..];
        let sha: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        if sha.len() >= 7 {
            out.push(sha.to_ascii_lowercase());
        }
    }
    out
}

/// The figures of one service in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The service and environment.
    pub unit: Unit,
    /// Deployments in the window, failed ones included.
    pub deployments: usize,
    /// Deployment frequency: `deployments` over the window's days, rounded to four places.
    pub deployments_per_day: f64,
    /// Median lead time in seconds, when any deployment has a known source time.
    pub lead_time: Option<i64>,
    /// Deployments in the window that were reverted or rolled back.
    pub failed: usize,
    /// `failed` over `deployments`, rounded to four places.
    pub change_failure_rate: f64,
    /// Median time to restore in seconds, when any deployment failed.
    pub time_to_restore: Option<i64>,
    /// Deployments whose source time is after their publish: no lead time.
    pub clock_skew: usize,
}

/// One preview instance of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    /// The service and the instance (`preview-pr-7`).
    pub unit: Unit,
    /// Publishes of the instance in the window.
    pub deployments: usize,
    /// Its first publish.
    pub opened: i64,
    /// Its teardown, if it was torn down.
    pub closed: Option<i64>,
}

/// A service's first deployment to a protected environment, and when its spec was added.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstDeploy {
    /// The service's name.
    pub service: String,
    /// Committer time of the commit that added the spec.
    pub first_commit: i64,
    /// The first publish that deployed it to a protected environment.
    pub deployed: i64,
}

impl FirstDeploy {
    /// Seconds from the spec's first commit to its first production deployment; `None` when
    /// the clocks put the commit after the deployment.
    pub fn seconds(&self) -> Option<i64> {
        Some(self.deployed - self.first_commit).filter(|s| *s >= 0)
    }
}

/// The metrics of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Start and end of the window (seconds since the epoch), `None` without any publish and
    /// without `--since`.
    pub window: Option<(i64, i64)>,
    /// Length of the window in days: at least one (one without a window), rounded to four places.
    pub days: f64,
    /// Sorted by service, then environment.
    pub rows: Vec<Row>,
    /// Preview instances with a publish in the window, sorted by service, then instance.
    pub previews: Vec<PreviewRow>,
    /// Time to first deploy of every service that has one, sorted by service.
    pub first_deploys: Vec<FirstDeploy>,
}

#[derive(Debug)]
struct Deploy {
    time: i64,
    source_time: Option<i64>,
    rollback: bool,
    failed: bool,
    revert_time: Option<i64>,
    next_publish: Option<i64>,
}

#[derive(Debug, Default)]
struct UnitState {
    deploys: Vec<Deploy>,
    /// Indices of deployments, the live one last.
    live: Vec<usize>,
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]).div_euclid(2) })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The deployments of a history so far, per service and environment, as its publishes and
/// reverts leave them.
#[derive(Debug, Default)]
struct Ledger {
    units: BTreeMap<Unit, UnitState>,
    /// Publish SHA (lowercase) -> its deployments.
    publishes: HashMap<String, Vec<(Unit, usize)>>,
    /// Committer time of the first publish: where the window starts without `--since`.
    first_publish: Option<i64>,
    /// Preview instances: their publish times and teardown.
    previews: BTreeMap<Unit, (Vec<i64>, Option<i64>)>,
    /// Per service, its first `Platc-First-Commit`.
    first_deploys: BTreeMap<String, FirstDeploy>,
}

impl Ledger {
    /// Records publish `c` of `deploys`. Each deployment ends the time to restore of the one
    /// before it, and rolls back (fails) the live one when its source is older.
    fn publish(&mut self, c: &Commit, deploys: Vec<Unit>) {
        self.first_publish.get_or_insert(c.time);
        let source_time = trailers::values(&c.trailers, trailers::SOURCE_TIME).next().and_then(super::time::parse);
        let mut placed = Vec::new();
        for u in deploys {
            let st = self.units.entry(u.clone()).or_default();
            if let Some(prev) = st.deploys.last_mut() {
                prev.next_publish.get_or_insert(c.time);
            }
            let mut rollback = false;
            if let Some(&live) = st.live.last() {
                let l = &mut st.deploys[live];
                if let (Some(new), Some(old)) = (source_time, l.source_time) {
                    if new < old {
                        rollback = true;
                        l.failed = true;
                    }
                }
            }
            st.deploys.push(Deploy { time: c.time, source_time, rollback, failed: false, revert_time: None, next_publish: None });
            let idx = st.deploys.len() - 1;
            st.live.push(idx);
            placed.push((u, idx));
        }
        self.publishes.insert(c.sha.to_ascii_lowercase(), placed);
    }

    /// Records the first production deployment of each service `c` names in a
    /// `Platc-First-Commit` trailer (`SERVICE TIME`); later ones change nothing.
    fn first_deploys(&mut self, c: &Commit) {
        for v in trailers::values(&c.trailers, trailers::FIRST_COMMIT) {
            let Some((service, time)) = v.trim().split_once(' ') else { continue };
            let Some(first_commit) = super::time::parse(time.trim()) else { continue };
            self.first_deploys.entry(service.to_string()).or_insert(FirstDeploy { service: service.to_string(), first_commit, deployed: c.time });
        }
    }

    /// Records the previews commit `c` publishes and the instances it tears down (teardowns of
    /// environments' units end nothing but themselves: they are no deployment).
    fn previews(&mut self, c: &Commit) {
        for u in units(c, trailers::PREVIEW) {
            self.previews.entry(u).or_default().0.push(c.time);
        }
        for u in units(c, trailers::REMOVE) {
            if let Some(p) = self.previews.get_mut(&u) {
                p.1.get_or_insert(c.time);
            }
        }
    }

    /// Records the reverts commit `c` makes: every deployment of a reverted publish failed, and
    /// is no longer live. A revert of a commit that is not a publish changes nothing.
    fn revert(&mut self, c: &Commit) {
        for r in reverted(&c.message) {
            let Some(target) = self.publish_named(r) else { continue };
            for (u, idx) in self.publishes[&target].clone() {
                let st = self.units.get_mut(&u).expect("a publish's units are known");
                let d = &mut st.deploys[idx];
                d.failed = true;
                d.revert_time.get_or_insert(c.time);
                if st.live.last() == Some(&idx) {
                    st.live.pop();
                }
            }
        }
    }

    /// The publish a revert names: by its whole SHA, or by a prefix that no other publish
    /// shares (an ambiguous prefix names none).
    fn publish_named(&self, sha: String) -> Option<String> {
        if sha.len() == 40 {
            return self.publishes.contains_key(&sha).then_some(sha);
        }
        let mut m = self.publishes.keys().filter(|k| k.starts_with(&sha));
        match (m.next(), m.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    }
}

/// The units a commit deploys (its `Platc-Deploy` trailers), sorted, each once.
fn deployed(c: &Commit) -> Vec<Unit> {
    units(c, trailers::DEPLOY)
}

/// The units of trailer `key`, sorted, each once.
fn units(c: &Commit, key: &str) -> Vec<Unit> {
    let mut v: Vec<Unit> = trailers::values(&c.trailers, key).filter_map(Unit::parse).collect();
    v.sort();
    v.dedup();
    v
}

/// Computes the metrics of a history (see the module documentation for the rules).
pub fn compute(commits: &[Commit], since: Option<i64>) -> Report {
    let mut ledger = Ledger::default();
    for c in commits {
        let deploys = deployed(c);
        ledger.previews(c);
        ledger.first_deploys(c);
        if deploys.is_empty() {
            ledger.revert(c);
        } else {
            ledger.publish(c, deploys);
        }
    }
    let end = commits.iter().map(|c| c.time).max();
    let window = match (since.or(ledger.first_publish), end) {
        (Some(s), Some(e)) => Some((s, e.max(s))),
        (Some(s), None) => Some((s, s)),
        _ => None,
    };
    let days = window.map(|(s, e)| ((e - s) as f64 / 86_400.0).max(1.0)).unwrap_or(1.0);
    let start = window.map(|(s, _)| s).unwrap_or(i64::MIN);
    let rows = ledger.units.into_iter().filter_map(|(unit, st)| row(unit, &st, start, days)).collect();
    let previews = ledger
        .previews
        .into_iter()
        .filter_map(|(unit, (times, closed))| {
            let in_window: Vec<i64> = times.iter().copied().filter(|&t| t >= start).collect();
            let opened = *times.first()?;
            (!in_window.is_empty()).then_some(PreviewRow { unit, deployments: in_window.len(), opened, closed })
        })
        .collect();
    Report { window, days: round4(days), rows, previews, first_deploys: ledger.first_deploys.into_values().collect() }
}

/// The figures of one unit over the deployments from `start` on; none when it has none there.
fn row(unit: Unit, st: &UnitState, start: i64, days: f64) -> Option<Row> {
    let ds: Vec<&Deploy> = st.deploys.iter().filter(|d| d.time >= start).collect();
    if ds.is_empty() {
        return None;
    }
    let failed: Vec<&&Deploy> = ds.iter().filter(|d| d.failed).collect();
    let restores: Vec<i64> = failed.iter().filter_map(|d| [d.next_publish, d.revert_time].into_iter().flatten().min().map(|t| t - d.time)).collect();
    let leads: Vec<i64> = ds.iter().filter(|d| !d.rollback).filter_map(|d| d.source_time.map(|s| d.time - s)).collect();
    Some(Row {
        deployments: ds.len(),
        deployments_per_day: round4(ds.len() as f64 / days),
        clock_skew: leads.iter().filter(|&&l| l < 0).count(),
        lead_time: median(leads.into_iter().filter(|&l| l >= 0).collect()),
        failed: failed.len(),
        change_failure_rate: round4(failed.len() as f64 / ds.len() as f64),
        time_to_restore: median(restores),
        unit,
    })
}

impl Report {
    /// One JSON object: the window and an array of rows.
    pub fn to_json(&self) -> String {
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "service": r.unit.service,
                    "environment": r.unit.environment,
                    "deployments": r.deployments,
                    "deployments_per_day": r.deployments_per_day,
                    "lead_time_seconds": r.lead_time,
                    "failed_deployments": r.failed,
                    "change_failure_rate": r.change_failure_rate,
                    "time_to_restore_seconds": r.time_to_restore,
                    "clock_skew_deployments": r.clock_skew,
                })
            })
            .collect();
        let previews: Vec<_> = self
            .previews
            .iter()
            .map(|p| json!({"service": p.unit.service, "instance": p.unit.environment, "deployments": p.deployments, "opened": format_utc(p.opened), "closed": p.closed.map(format_utc)}))
            .collect();
        let first: Vec<_> = self
            .first_deploys
            .iter()
            .map(|f| json!({"service": f.service, "first_commit": format_utc(f.first_commit), "first_deploy": format_utc(f.deployed), "time_to_first_deploy_seconds": f.seconds()}))
            .collect();
        let doc = json!({
            "window": {
                "start": self.window.map(|(s, _)| format_utc(s)),
                "end": self.window.map(|(_, e)| format_utc(e)),
                "days": self.days,
            },
            "services": rows,
            "previews": previews,
            "first_deploys": first,
        });
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
        s.push('\n');
        s
    }

    /// Aligned plain-text tables (environments, then previews), preceded by the window.
    pub fn to_table(&self) -> String {
        let mut out = match self.window {
            Some((s, e)) => format!("window: {} to {} ({:.2} days)\n", format_utc(s), format_utc(e), self.days),
            None => "window: no publishes\n".to_string(),
        };
        if self.rows.is_empty() && self.previews.is_empty() && self.first_deploys.is_empty() {
            out.push_str("no platc publishes in the window\n");
            return out;
        }
        let dash = || "-".to_string();
        if !self.rows.is_empty() {
            let head = ["SERVICE", "ENVIRONMENT", "DEPLOYS", "PER DAY", "LEAD TIME", "FAILED", "FAILURE RATE", "TIME TO RESTORE"];
            let rows = self.rows.iter().map(|r| {
                vec![
                    r.unit.service.clone(),
                    r.unit.environment.clone(),
                    r.deployments.to_string(),
                    if r.deployments_per_day >= 0.1 { format!("{:.2}", r.deployments_per_day) } else { format!("{:.4}", r.deployments_per_day) },
                    r.lead_time.map(format_duration).unwrap_or_else(dash),
                    r.failed.to_string(),
                    format!("{:.1}%", r.change_failure_rate * 100.0),
                    r.time_to_restore.map(format_duration).unwrap_or_else(dash),
                ]
            });
            out.push('\n');
            out.push_str(&aligned(&head, rows));
        }
        let skewed: usize = self.rows.iter().map(|r| r.clock_skew).sum();
        if skewed > 0 {
            out.push_str(&format!(
                "\nnote: {skewed} deployment{} had a source time after the publish (a wrong clock on the build machine or in the source repository): left out of the lead time\n",
                if skewed == 1 { "" } else { "s" }
            ));
        }
        if !self.previews.is_empty() {
            let head = ["SERVICE", "PREVIEW", "DEPLOYS", "OPENED", "TORN DOWN"];
            let rows =
                self.previews.iter().map(|p| vec![p.unit.service.clone(), p.unit.environment.clone(), p.deployments.to_string(), format_utc(p.opened), p.closed.map(format_utc).unwrap_or_else(dash)]);
            out.push_str("\npreviews (not counted as deployments):\n");
            out.push_str(&aligned(&head, rows));
        }
        if !self.first_deploys.is_empty() {
            let head = ["SERVICE", "SPEC FIRST COMMITTED", "FIRST PRODUCTION DEPLOY", "TIME TO FIRST DEPLOY"];
            let rows = self.first_deploys.iter().map(|f| vec![f.service.clone(), format_utc(f.first_commit), format_utc(f.deployed), f.seconds().map(format_duration).unwrap_or_else(dash)]);
            out.push_str("\ntime to first deploy (the whole history):\n");
            out.push_str(&aligned(&head, rows));
        }
        out
    }
}

/// `head` and `rows` as columns padded to their widest cell, two spaces apart.
fn aligned(head: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut table: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
    table.extend(rows);
    let widths: Vec<usize> = (0..head.len()).map(|i| table.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in table {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(sha: &str, time: i64, source_time: &str, units: &[&str]) -> Commit {
        let mut trailers = vec![("Platc-Source-Commit".to_string(), "abc".to_string()), ("Platc-Source-Time".to_string(), source_time.to_string())];
        trailers.extend(units.iter().map(|u| ("Platc-Deploy".to_string(), u.to_string())));
        Commit { sha: sha.into(), time, trailers, message: "publish".into() }
    }

    #[test]
    fn reverts_and_rollbacks_fail_deployments() {
        let day = 86_400;
        let commits = vec![
            publish("a1", 10 * day, "1970-01-10T00:00:00Z", &["s/prod"]),
            publish("b2", 11 * day, "1970-01-11T00:00:00Z", &["s/prod"]),
            Commit { sha: "c3".into(), time: 11 * day + 3600, trailers: vec![], message: "Revert\n\nThis reverts commit b2b2b2b2b2.\n".into() },
            publish("d4", 12 * day, "1970-01-12T12:00:00Z", &["s/prod"]),
            // Rolls d4 back: its source is older than d4's.
            publish("e5", 13 * day, "1970-01-10T00:00:00Z", &["s/prod"]),
        ];
        // The revert names a prefix of a SHA that does not exist: it does not count.
        let r = compute(&commits, None);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].failed, 1, "{r:?}");
        assert_eq!(reverted("x\nThis reverts commit 0123abcd, reversing\n"), ["0123abcd"]);
    }

    fn with(mut c: Commit, key: &str, units: &[&str]) -> Commit {
        c.trailers.extend(units.iter().map(|u| (key.to_string(), u.to_string())));
        c
    }

    #[test]
    fn previews_and_teardowns_are_not_deployments() {
        let day = 86_400;
        let commits = vec![
            publish("a1", 10 * day, "1970-01-10T00:00:00Z", &["s/prod"]),
            with(publish("b2", 11 * day, "1970-01-11T00:00:00Z", &[]), "Platc-Preview", &["s/preview-pr-7", "s/preview-pr-8"]),
            with(publish("c3", 12 * day, "1970-01-12T00:00:00Z", &[]), "Platc-Preview", &["s/preview-pr-8"]),
            with(publish("d4", 13 * day, "1970-01-13T00:00:00Z", &[]), "Platc-Remove", &["s/preview-pr-7"]),
        ];
        let r = compute(&commits, None);
        assert_eq!(r.rows.len(), 1, "previews are not an environment's row: {r:?}");
        assert_eq!((r.rows[0].deployments, r.rows[0].failed), (1, 0), "the teardown neither deploys nor restores");
        let previews: Vec<_> = r.previews.iter().map(|p| (p.unit.environment.as_str(), p.deployments, p.closed)).collect();
        assert_eq!(previews, [("preview-pr-7", 1, Some(13 * day)), ("preview-pr-8", 2, None)]);
        assert!(r.to_table().contains("previews (not counted as deployments):"), "{}", r.to_table());
    }

    #[test]
    fn a_source_time_after_the_publish_is_clock_skew_not_a_negative_lead_time() {
        let day = 86_400;
        let commits = vec![publish("a1", 10 * day, "1970-01-12T00:00:00Z", &["s/prod"]), publish("b2", 11 * day, "1970-01-10T12:00:00Z", &["s/prod"])];
        let r = compute(&commits, None);
        assert_eq!((r.rows[0].clock_skew, r.rows[0].lead_time), (1, None), "the skewed one is left out; the other is a rollback: {r:?}");
        assert!(r.to_table().contains("note: 1 deployment had a source time after the publish"), "{}", r.to_table());
        let r = compute(&[publish("a1", 10 * day, "1970-01-12T00:00:00Z", &["s/prod"]), publish("c3", 12 * day, "1970-01-11T00:00:00Z", &["s/staging"])], None);
        assert_eq!(r.rows.iter().map(|x| x.lead_time).collect::<Vec<_>>(), [None, Some(2 * day)], "staging: published on day 12 of a source of day 10");
    }

    #[test]
    fn time_to_first_deploy_is_from_the_specs_first_commit_to_its_first_production_deploy() {
        let day = 86_400;
        let commits = vec![
            with(publish("a1", 10 * day, "1970-01-10T00:00:00Z", &["s/prod"]), "Platc-First-Commit", &["s 1970-01-08T00:00:00Z"]),
            with(publish("b2", 12 * day, "1970-01-12T00:00:00Z", &["s/prod"]), "Platc-First-Commit", &["s 1970-01-01T00:00:00Z"]),
        ];
        let r = compute(&commits, Some(11 * day));
        assert_eq!(r.first_deploys.len(), 1);
        assert_eq!((r.first_deploys[0].seconds(), r.first_deploys[0].deployed), (Some(3 * day), 10 * day), "the first one counts, outside the window too");
        assert!(r.to_json().contains("\"time_to_first_deploy_seconds\": 259200"), "{}", r.to_json());
    }

    #[test]
    fn medians_round_down() {
        assert_eq!(median(vec![3, 1, 2]), Some(2));
        assert_eq!(median(vec![1, 2]), Some(1));
        assert_eq!(median(vec![]), None);
    }
}
