//! `platc dora` on a GitOps repository with a scripted history: commit times set with
//! GIT_COMMITTER_DATE / GIT_AUTHOR_DATE, source times written in the trailers, one revert and
//! one rollback, so that every figure is known in advance. Also: what `platc publish` writes
//! is what `platc dora` reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use platc_history::dora::{compute, read, Report};
use platc_history::git::Git;

/// Runs git in `dir` with commit and author time `when` (ISO 8601); returns stdout.
fn git_at(dir: &Path, when: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]).args(args);
    for v in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        cmd.env_remove(v);
    }
    if let Some(w) = when {
        cmd.env("GIT_COMMITTER_DATE", w).env("GIT_AUTHOR_DATE", w);
    }
    let out = cmd.output().expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gitops");
        std::fs::create_dir_all(&dir).unwrap();
        git_at(&dir, None, &["init", "-q"]);
        Repo { _tmp: tmp, dir }
    }

    /// Commits `files` (path, contents) at `when` with `message`; returns the SHA.
    fn commit(&self, when: &str, message: &str, files: &[(&str, &str)]) -> String {
        for (p, text) in files {
            let path = self.dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        git_at(&self.dir, None, &["add", "-A"]);
        git_at(&self.dir, Some(when), &["commit", "-q", "--allow-empty", "--cleanup=whitespace", "-m", message]);
        self.head()
    }

    /// A publish as `platc publish` writes it: the documented trailers, one file per unit.
    fn publish(&self, when: &str, source: (&str, &str), units: &[&str]) -> String {
        let mut message = format!("platc: publish {}\n\nPlatc-Source-Commit: {}\nPlatc-Source-Time: {}\nPlatc-Version: 0.1.0\n", source.0, source.0, source.1);
        for u in units {
            message.push_str(&format!("Platc-Deploy: {u}\n"));
        }
        let files: Vec<(String, String)> = units.iter().map(|u| (format!("deploy/{u}.yaml"), format!("source: {}\n", source.0))).collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        self.commit(when, &message, &files)
    }

    fn revert(&self, when: &str, sha: &str) -> String {
        git_at(&self.dir, Some(when), &["revert", "--no-edit", sha]);
        self.head()
    }

    fn head(&self) -> String {
        git_at(&self.dir, None, &["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// The scripted history (all times UTC):
///
/// | when        | commit | source time | units                      | what happens                          |
/// |-------------|--------|-------------|----------------------------|---------------------------------------|
/// | 03-01 00:00 | init   |             |                            | before the first publish              |
/// | 03-01 10:00 | P1     | 03-01 08:00 | checkout/staging, checkout/prod | lead 2h                          |
/// | 03-02 10:00 | P2     | 03-02 09:00 | checkout/prod, cart/prod   | lead 1h; reverted at 11:30: both fail, restored after 1h30m |
/// | 03-02 11:30 | revert of P2 |       |                            |                                       |
/// | 03-03 12:00 | P3     | 03-03 06:00 | checkout/prod              | lead 6h; rolled back by P4: fails, restored after 24h |
/// | 03-04 12:00 | P4     | 03-01 08:00 | checkout/prod              | rollback (older source than P3): not in lead time |
/// | 03-05 00:00 | P5     | 03-04 20:00 | checkout/staging, cart/prod | lead 4h                              |
/// | 03-05 06:00 | P6     | unknown     | cart/prod                  | no lead time                          |
/// | 03-05 12:00 | docs   |             |                            | not a publish                         |
/// | 03-06 00:00 | revert of docs |     |                            | reverts no publish: nothing fails; end of the window |
fn scripted() -> Repo {
    let r = Repo::new();
    r.commit("2024-03-01T00:00:00Z", "init", &[("README.md", "GitOps\n")]);
    r.publish("2024-03-01T10:00:00Z", ("1111111111111111111111111111111111111111", "2024-03-01T09:00:00+01:00"), &["checkout/staging", "checkout/prod"]);
    let p2 = r.publish("2024-03-02T10:00:00Z", ("2222222222222222222222222222222222222222", "2024-03-02T09:00:00Z"), &["checkout/prod", "cart/prod"]);
    r.revert("2024-03-02T11:30:00Z", &p2);
    r.publish("2024-03-03T12:00:00Z", ("3333333333333333333333333333333333333333", "2024-03-03T06:00:00Z"), &["checkout/prod"]);
    r.publish("2024-03-04T12:00:00Z", ("1111111111111111111111111111111111111111", "2024-03-01T09:00:00+01:00"), &["checkout/prod"]);
    r.publish("2024-03-05T00:00:00Z", ("5555555555555555555555555555555555555555", "2024-03-04T20:00:00Z"), &["checkout/staging", "cart/prod"]);
    r.publish("2024-03-05T06:00:00Z", ("unknown", "unknown"), &["cart/prod"]);
    let docs = r.commit("2024-03-05T12:00:00Z", "docs: how to roll back", &[("README.md", "GitOps\n\nRoll back with git revert.\n")]);
    r.revert("2024-03-06T00:00:00Z", &docs);
    r
}

fn report(repo: &Repo, since: Option<&str>) -> Report {
    let commits = read(&Git::new(&repo.dir)).expect("the history reads");
    compute(&commits, since.map(|s| platc_history::time::parse(s).expect("a date")))
}

#[test]
fn the_scripted_history_gives_the_expected_figures() {
    let repo = scripted();
    let r = report(&repo, None);
    assert_eq!(
        r.to_json(),
        r#"{
  "window": {
    "start": "2024-03-01T10:00:00Z",
    "end": "2024-03-06T00:00:00Z",
    "days": 4.5833
  },
  "services": [
    {
      "service": "cart",
      "environment": "prod",
      "deployments": 3,
      "deployments_per_day": 0.6545,
      "lead_time_seconds": 9000,
      "failed_deployments": 1,
      "change_failure_rate": 0.3333,
      "time_to_restore_seconds": 5400,
      "clock_skew_deployments": 0
    },
    {
      "service": "checkout",
      "environment": "prod",
      "deployments": 4,
      "deployments_per_day": 0.8727,
      "lead_time_seconds": 7200,
      "failed_deployments": 2,
      "change_failure_rate": 0.5,
      "time_to_restore_seconds": 45900,
      "clock_skew_deployments": 0
    },
    {
      "service": "checkout",
      "environment": "staging",
      "deployments": 2,
      "deployments_per_day": 0.4364,
      "lead_time_seconds": 10800,
      "failed_deployments": 0,
      "change_failure_rate": 0.0,
      "time_to_restore_seconds": null,
      "clock_skew_deployments": 0
    }
  ],
  "previews": [],
  "first_deploys": []
}
"#
    );
    assert_eq!(
        r.to_table(),
        "\
window: 2024-03-01T10:00:00Z to 2024-03-06T00:00:00Z (4.58 days)

SERVICE   ENVIRONMENT  DEPLOYS  PER DAY  LEAD TIME  FAILED  FAILURE RATE  TIME TO RESTORE
cart      prod         3        0.65     2h 30m     1       33.3%         1h 30m
checkout  prod         4        0.87     2h         2       50.0%         12h 45m
checkout  staging      2        0.44     3h         0       0.0%          -
"
    );
}

#[test]
fn since_narrows_the_window() {
    let repo = scripted();
    let r = report(&repo, Some("2024-03-03"));
    assert_eq!(r.window, Some((1_709_424_000, 1_709_683_200)), "2024-03-03T00:00Z to 2024-03-06T00:00Z");
    assert_eq!(r.days, 3.0);
    let rows: Vec<_> = r.rows.iter().map(|x| (x.unit.to_string(), x.deployments, x.deployments_per_day, x.lead_time, x.failed, x.change_failure_rate, x.time_to_restore)).collect();
    assert_eq!(
        rows,
        [
            ("cart/prod".to_string(), 2, 0.6667, Some(14_400), 0, 0.0, None),
            // P3 (failed, rolled back by P4 after 24h) and P4 (a rollback: no lead time).
            ("checkout/prod".to_string(), 2, 0.6667, Some(21_600), 1, 0.5, Some(86_400)),
            ("checkout/staging".to_string(), 1, 0.3333, Some(14_400), 0, 0.0, None),
        ]
    );
}

#[test]
fn the_command_reads_the_repository_and_refuses_bad_input() {
    let repo = scripted();
    let args = |since: Option<&str>, dir: &Path| platc::cli::dora::Args { repo: dir.to_path_buf(), since: since.map(str::to_string), format: platc::cli::dora::DoraFormat::Json };
    assert_eq!(platc::cli::dora::run(&args(Some("2024-03-03T00:00:00+00:00"), &repo.dir)), 0);
    assert_eq!(platc::cli::dora::run(&args(Some("last tuesday"), &repo.dir)), 2, "an unreadable --since");
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(platc::cli::dora::run(&args(None, plain.path())), 2, "not a git repository");
    // A repository without commits has no publishes.
    let empty = Repo::new();
    let r = report(&empty, None);
    assert_eq!((r.window, r.rows.len()), (None, 0));
    assert_eq!(r.to_table(), "window: no publishes\nno platc publishes in the window\n");
}

#[test]
fn dora_reads_what_publish_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let to = src.join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    git_at(&src, None, &["init", "-q"]);
    git_at(&src, None, &["add", "-A"]);
    git_at(&src, Some("2024-03-01T08:00:00Z"), &["commit", "-q", "-m", "hello"]);
    let gitops = tmp.path().join("gitops");
    std::fs::create_dir_all(&gitops).unwrap();
    git_at(&gitops, None, &["init", "-q"]);
    let publish = platc::cli::publish::Args {
        input: platc::cli::InputArgs { paths: vec![src.clone()], stdlib: Vec::new() },
        repo: gitops.clone(),
        branch: None,
        message: None,
        out: None,
        build: platc::cli::BuildArgs::default(),
        remove: false,
        report: platc::cli::ReportArgs { format: platc_syntax::diagnostics::Format::Human, color: platc::cli::Color::Never },
    };
    assert_eq!(platc::cli::publish::run(&publish), 0);
    let commits = read(&Git::new(&gitops)).unwrap();
    assert_eq!(commits.len(), 1);
    let r = compute(&commits, None);
    let units: Vec<String> = r.rows.iter().map(|x| x.unit.to_string()).collect();
    assert_eq!(units, ["hello/dev", "hello/prod", "hello/staging"]);
    let lead = commits[0].time - 1_709_280_000;
    assert!(r.rows.iter().all(|x| x.deployments == 1 && x.failed == 0 && x.lead_time == Some(lead)), "{r:?}");
}
