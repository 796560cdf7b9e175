//! Literal secrets (E0216): a secret value written into a spec or platform.kdl never reaches an
//! output, and the report of it never prints it again.

use crate::sandbox::Sandbox;

const SPEC: &str = "hello/service.kdl";

/// `hello`'s service.kdl with `line` added inside `service hello { ... }`.
fn with_line(sb: &Sandbox, line: &str) -> String {
    let spec = sb.read(SPEC);
    let at = spec.rfind('}').expect("service block");
    format!("{}    {line}\n{}", &spec[..at], &spec[at..])
}

/// Asserts that no generated file (under `deploy/`, `.github/`, `.gitlab-ci.yml`) holds `secret`.
fn assert_not_in_outputs(sb: &Sandbox, secret: &str) {
    for rel in sb.outputs().keys() {
        let path = sb.repo().join(rel);
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{rel} holds the secret");
        }
    }
}

/// The checks of every refused case: exit 1, E0216 naming `rule`, the secret in no stream and
/// in no output, nothing outside the output root changed, the previous output intact.
fn assert_refused_everywhere(sb: &Sandbox, what: &str, rule: &str, secret: &str) {
    let (before, outputs) = (sb.surroundings(), sb.outputs());
    for args in [&["check", "--deny-warnings"][..], &["check", "--format", "json"][..], &["check", "--format", "github"][..], &["check", "--format", "sarif"][..], &["build"][..]] {
        let run = sb.platc(args);
        run.assert_refused("E0216");
        assert_eq!(run.code, 1, "{args:?} on `{what}`:\n{}", run.all());
        assert!(run.all().contains(&format!("rule `{rule}`")), "{args:?} on `{what}` names rule `{rule}`:\n{}", run.all());
        assert!(!run.all().contains(secret), "{args:?} printed the secret of `{what}`:\n{}", run.all());
        let all = run.all();
        assert!(all.contains("from=") && all.contains(" key="), "the help suggests a `secret NAME from=... key=...` reference:\n{all}");
    }
    assert_eq!(before, sb.surroundings(), "{what}");
    assert_eq!(outputs, sb.outputs(), "the previous output is intact after `{what}`");
    assert_not_in_outputs(sb, secret);
}

/// One rule's case: the line to add, the rule that must match, and the secret (never printed).
struct Case {
    line: String,
    rule: &'static str,
    secret: String,
}

fn case(line: impl Into<String>, rule: &'static str, secret: impl Into<String>) -> Case {
    Case { line: line.into(), rule, secret: secret.into() }
}

fn cases() -> Vec<Case> {
    let gh = format!("ghp_{}", "R4nd0mT0k3nV4lu3xyzABCDEFGHIJKLMNOPQ12");
    let pat = "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdEFGHijklMNOP".to_string();
    let aws = "AKIAZ7Q4XK3M2LPN5RTY".to_string();
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----".to_string();
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaGVja291dCIsInJvbGUiOiJhZG1pbiJ9.Qm9K3xW8vZ2pL7rT1yN5sD0fH4jA6cE9gB".to_string();
    vec![
        case("env DB_PASSWORD=\"hunter2-but-longer\"", "secret-name", "hunter2-but-longer"),
        case("env DB_PASSWD=123456789", "secret-name", "123456789"),
        case("env DATABASE_URL=\"postgres://app:Tr0ub4dor@db.internal:5432/orders\"", "url-credentials", "Tr0ub4dor"),
        case(format!("env UPLOADS_KEY_ID=\"{aws}\""), "aws-access-key", aws),
        case(format!("env GH={gh}"), "github-token", gh),
        case(format!("env GH_FINE=\"{pat}\""), "github-token", pat),
        case("env GITLAB=\"glpat-Xy7Kq2Lm9Np4Rs6Tv8Wz\"", "gitlab-token", "glpat-Xy7Kq2Lm9Np4Rs6Tv8Wz"),
        case("env SLACK=\"xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp\"", "slack-token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"),
        case("env STRIPE=\"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"", "stripe-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        case("env MAPS=\"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY\"", "google-api-key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
        case(format!("env SIGNING=\"{}\"", pem.replace('\n', "\\n")), "pem-private-key", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
        case(format!("env SESSION=\"{jwt}\""), "jwt", jwt),
        case("env UPSTREAM_ID=\"Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA\"", "high-entropy", "Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA"),
        // Literals outside `env` that reach an output too.
        case("environment staging { env API_TOKEN=\"staging-token-Qw3rty\" }", "secret-name", "staging-token-Qw3rty"),
        case(
            r##"patch Deployment merge=#"{"spec":{"template":{"spec":{"containers":[{"name":"hello","env":[{"name":"DB_PASSWORD","value":"hunter2-in-a-patch"}]}]}}}}"#"##,
            "secret-name",
            "hunter2-in-a-patch",
        ),
        case("alert Leak expr=\"up == 0\" summary=\"call with Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA\"", "high-entropy", "Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA"),
        case("worker mailer { command \"bin/mailer\" \"--smtp-password=Sup3rS3cretSmtp\" }", "secret-name", "Sup3rS3cretSmtp"),
    ]
}

/// Every rule refuses its case in `check --deny-warnings` and in `build`, names the rule, never
/// prints the value, and `build` writes nothing.
#[test]
fn every_rule_refuses_its_literal_and_build_writes_nothing() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let original = sb.read(SPEC);
    for c in cases() {
        sb.write(SPEC, with_line(&sb, &c.line));
        assert_refused_everywhere(&sb, &c.line, c.rule, &c.secret);
        sb.write(SPEC, &original);
    }
}

/// The help gives the exact line to write for an env variable.
#[test]
fn the_help_is_the_secret_line_to_write() {
    let sb = Sandbox::new("hello");
    sb.write(SPEC, with_line(&sb, "env DB_PASSWORD=\"hunter2-but-longer\""));
    let run = sb.platc(&["check"]);
    run.assert_refused("E0216");
    assert!(run.all().contains("secret DB_PASSWORD from=\"hello\" key=db-password"), "{}", run.all());
    assert!(run.all().contains("hunt…(18 chars)"), "the value is masked in the label:\n{}", run.all());
}

/// A secret in platform.kdl is refused the same way: in the GitOps repository URL (Argo CD
/// clones it), the runbooks URL (copied into every alert), a property of the Terraform backend.
#[test]
fn every_rule_refuses_its_literal_in_platform_kdl() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let original = sb.read("platform.kdl");
    let gh = format!("ghp_{}", "R4nd0mT0k3nV4lu3xyzABCDEFGHIJKLMNOPQ12");
    let repo = "repo=\"https://github.com/acme/gitops.git\"";
    let cases: Vec<(String, String, &str, String)> = vec![
        (repo.into(), "repo=\"https://deploy:Gh0stPassw0rd@github.com/acme/gitops.git\"".into(), "url-credentials", "Gh0stPassw0rd".into()),
        (repo.into(), format!("repo=\"https://{gh}@github.com/acme/gitops.git\""), "github-token", gh.clone()),
        ("ci github-actions".into(), "ci github-actions\n    runbooks \"https://runbooks.acme.example.com/?key=AKIAZ7Q4XK3M2LPN5RTY\"".into(), "aws-access-key", "AKIAZ7Q4XK3M2LPN5RTY".into()),
        (
            "ci github-actions".into(),
            "ci github-actions\n    runbooks \"https://runbooks.acme.example.com/?sig=Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA\"".into(),
            "high-entropy",
            "Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA".into(),
        ),
        (
            "ci github-actions".into(),
            "ci github-actions\n    terraform-backend s3 bucket=\"acme-tf-state\" region=\"eu-west-1\" password=\"hunter2-but-longer\"".into(),
            "secret-name",
            "hunter2-but-longer".into(),
        ),
    ];
    for (from, to, rule, secret) in cases {
        assert!(original.contains(&from));
        sb.write("platform.kdl", original.replacen(&from, &to, 1));
        assert_refused_everywhere(&sb, &to, rule, &secret);
        let run = sb.platc(&["check"]);
        assert!(run.all().contains("platform.kdl holds no credentials"), "the help of platform.kdl:\n{}", run.all());
        sb.write("platform.kdl", &original);
    }
}

/// A secret another check quotes too (an image reference that is also invalid, whose help
/// suggests its lowercase form) is masked in that diagnostic as well.
#[test]
fn other_diagnostics_on_the_literal_do_not_print_it() {
    let sb = Sandbox::new("hello");
    let spec = sb.read(SPEC).replace("image \"ghcr.io/acme/hello\"", "image \"ghcr.io/acme/AKIAZ7Q4XK3M2LPN5RTY:x y\"");
    sb.write(SPEC, spec);
    for args in [&["check"][..], &["check", "--format", "json"][..], &["check", "--format", "github"][..], &["check", "--format", "sarif"][..]] {
        let run = sb.platc(args);
        run.assert_refused("E0216");
        assert!(run.all().contains("E0211"), "the image is still reported as invalid:\n{}", run.all());
        let lower = run.all().to_ascii_lowercase();
        assert!(!lower.contains("q4xk3m2lpn5rty"), "{args:?} printed the key (in some case):\n{}", run.all());
    }
}

/// What is not a secret passes: references to secret outputs, `secret` references, a commit SHA,
/// a UUID, file paths, a digest; the build writes them as written.
#[test]
fn references_and_identifiers_are_not_secrets() {
    let sb = Sandbox::new("hello");
    let lines = [
        "uses postgres orders",
        "env DB_PASSWORD=\"${resources.orders.password}\"",
        "env DATABASE_URL=\"${resources.orders.url}\"",
        "secret API_TOKEN from=\"hello/api\" key=token",
        "secret STRIPE_SECRET_KEY from=\"payments/stripe\" key=api-key",
        "env BUILD_SHA=\"3f786850e387550fdab836ed7e6dc881de23001b\"",
        "env TENANT_ID=\"123e4567-e89b-12d3-a456-426614174000\"",
        "env GOOGLE_APPLICATION_CREDENTIALS=\"/var/run/secrets/gcp/service-account-key.json\"",
        "env CONFIG_PATH=\"/etc/hello/config/2024-06-01/settings.json\"",
        "env BASE_IMAGE_DIGEST=\"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\"",
        "env PASSWORD_MIN_LENGTH=12 TOKEN_TTL=\"3600\" REQUIRE_AUTH=#true",
    ];
    let mut spec = sb.read(SPEC);
    for l in lines {
        let at = spec.rfind('}').unwrap();
        spec = format!("{}    {l}\n{}", &spec[..at], &spec[at..]);
    }
    sb.write(SPEC, &spec);
    let before = sb.surroundings();
    let run = sb.platc(&["check", "--deny-warnings"]);
    run.assert_ok();
    assert!(!run.all().contains("E0216"), "{}", run.all());
    sb.build_ok();
    assert_eq!(before, sb.surroundings());
    let config = sb.read("deploy/hello/manifests/dev/configmap-hello-config.yaml");
    assert!(config.contains("3f786850e387550fdab836ed7e6dc881de23001b") && config.contains("123e4567-e89b-12d3-a456-426614174000"), "{config}");

    // A commit SHA as the image tag: W0102 (a tag in the spec), never E0216.
    sb.write(SPEC, spec.replace("image \"ghcr.io/acme/hello\"", "image \"ghcr.io/acme/hello:3f786850e387550fdab836ed7e6dc881de23001b\""));
    let run = sb.platc(&["check"]);
    run.assert_ok();
    assert!(run.all().contains("W0102") && !run.all().contains("E0216"), "{}", run.all());
}

/// `not-secret NAME rule=ID reason="..."` lets a reviewed false positive through, visibly: the
/// waiver is in the spec, needs a reason, and one that waives nothing is reported (W0105).
#[test]
fn a_waiver_is_explicit_and_reviewable() {
    let sb = Sandbox::new("hello");
    let value = "Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA";
    let spec = with_line(&sb, &format!("env PUBLIC_BUILD_ID=\"{value}\""));
    let at = spec.rfind('}').unwrap();
    let waived = |waiver: &str| format!("{}    {waiver}\n{}", &spec[..at], &spec[at..]);

    sb.write(SPEC, waived("not-secret PUBLIC_BUILD_ID rule=high-entropy reason=\"a public build identifier, printed on every page\""));
    let before = sb.surroundings();
    sb.platc(&["check", "--deny-warnings"]).assert_ok();
    sb.build_ok();
    assert_eq!(before, sb.surroundings());
    let config = sb.read("deploy/hello/manifests/dev/configmap-hello-config.yaml");
    assert!(config.contains(value), "the waived value is built as written:\n{config}");

    // A waiver for another rule does not waive this one.
    sb.write(SPEC, waived("not-secret PUBLIC_BUILD_ID rule=jwt reason=\"not a token\""));
    let outputs = sb.outputs();
    let run = sb.platc(&["build"]);
    run.assert_refused("E0216");
    assert!(run.all().contains("W0105"), "the waiver for `jwt` waives nothing:\n{}", run.all());
    assert_eq!(outputs, sb.outputs());

    // No reason, no waiver; no rule, no waiver (it would let any other kind of secret through).
    sb.write(SPEC, waived("not-secret PUBLIC_BUILD_ID rule=high-entropy"));
    sb.platc(&["check"]).assert_refused("a secret waiver needs a reason");
    sb.write(SPEC, waived("not-secret PUBLIC_BUILD_ID reason=\"a public build identifier\""));
    let run = sb.platc(&["check"]);
    run.assert_refused("a secret waiver names the rule it waives");
    assert!(run.all().contains("E0216"), "the value is still refused:\n{}", run.all());

    // A waiver of nothing fails --deny-warnings: it would let a secret added later through.
    sb.write(SPEC, format!("{}    not-secret OLD_NAME rule=high-entropy reason=\"was public\"\n{}", &spec[..at], &spec[at..]).replace(&format!("env PUBLIC_BUILD_ID=\"{value}\""), ""));
    let run = sb.platc(&["check", "--deny-warnings"]);
    run.assert_refused("W0105");
    assert!(run.all().contains("not-secret OLD_NAME"), "{}", run.all());

    // An unknown rule name is an error with the known names.
    sb.write(SPEC, waived("not-secret PUBLIC_BUILD_ID rule=high-entropi reason=\"typo\""));
    let run = sb.platc(&["check"]);
    run.assert_refused("E0205");
    assert!(run.all().contains("did you mean `high-entropy`?"), "{}", run.all());
}

/// A rule a platform team adds in its overlay (`secrets/acme.kdl`) is applied, and replaces a
/// built-in rule of the same name.
#[test]
fn an_overlay_rule_is_applied() {
    let sb = Sandbox::new("hello");
    sb.write("platform-stdlib/secrets/acme.kdl", "secret-rules {\n    value acme-token pattern=#\"\\bacme_[a-z0-9]{24}\\b\"# what=\"an Acme API token\"\n}\n");
    let token = "acme_abcabcabcabcabcabcabcabc";
    sb.write(SPEC, with_line(&sb, &format!("env ACME=\"{token}\"")));
    let before = sb.surroundings();
    let run = sb.platc(&["build", "--stdlib", "platform-stdlib"]);
    run.assert_refused("E0216");
    assert!(run.all().contains("rule `acme-token`") && run.all().contains("an Acme API token"), "{}", run.all());
    assert!(!run.all().contains(token), "{}", run.all());
    assert!(sb.outputs().is_empty(), "nothing was built");
    assert_eq!(before, sb.surroundings());
    // Without the overlay the built-in rules let this (low-entropy) value through.
    sb.platc(&["check", "--deny-warnings"]).assert_ok();
}

/// The same with the overlay named in platform.kdl (`stdlib "DIR"`), and an overlay that
/// redefines a built-in rule by its name (here: a stricter `high-entropy`).
#[test]
fn an_overlay_named_in_platform_kdl_adds_and_redefines_rules() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let platform = sb.read("platform.kdl").replacen("ci github-actions", "ci github-actions\n    stdlib \"platform-stdlib\"", 1);
    sb.write("platform.kdl", platform);
    sb.write(
        "platform-stdlib/secrets/acme.kdl",
        "secret-rules {\n    value acme-token pattern=#\"\\bacme_[a-z0-9]{24}\\b\"# what=\"an Acme API token\"\n    entropy high-entropy min-length=12 min-bits=3.0 what=\"a high-entropy string (acme)\"\n}\n",
    );
    let token = "acme_abcabcabcabcabcabcabcabc";
    let original = sb.read(SPEC);
    sb.write(SPEC, with_line(&sb, &format!("env ACME=\"{token}\"")));
    assert_refused_everywhere(&sb, token, "acme-token", token);
    let run = sb.platc(&["check"]);
    assert!(run.all().contains("rule `acme-token` is defined here") && run.all().contains("platform-stdlib/secrets/acme.kdl"), "the note points at the overlay's rule:\n{}", run.all());

    let short = "k3Xq9Lm2Zp7R";
    sb.write(SPEC, with_line(&sb, &format!("env UPSTREAM_ID=\"{short}\"")).replace(&format!("env ACME=\"{token}\""), ""));
    let _ = original;
    assert_refused_everywhere(&sb, short, "high-entropy", short);
    assert!(sb.platc(&["check"]).all().contains("a high-entropy string (acme)"));
}

/// A broken overlay rule is reported in its own file, with the line.
#[test]
fn a_broken_overlay_rule_points_into_its_file() {
    let sb = Sandbox::new("hello");
    sb.write("platform-stdlib/secrets/acme.kdl", "secret-rules {\n    value acme-token pattern=\"acme_(unclosed\"\n    entropy loud min-bits=12\n    valu typo pattern=\"x\"\n}\n");
    let before = sb.surroundings();
    let run = sb.platc(&["build", "--stdlib", "platform-stdlib"]);
    run.assert_refused("invalid pattern in a secret rule");
    let all = run.all();
    assert!(all.contains("platform-stdlib/secrets/acme.kdl:2:"), "points at line 2 of the overlay file:\n{all}");
    assert!(all.contains("platform-stdlib/secrets/acme.kdl:3:") && all.contains("min-bits"), "{all}");
    assert!(all.contains("did you mean `value`?"), "{all}");
    assert!(sb.outputs().is_empty());
    assert_eq!(before, sb.surroundings());
}

/// Zero findings on every spec the project ships or generates: the examples, the scaffolds of
/// `platc init` and `platc new` in every language, and a platc-synth monorepo.
#[test]
fn no_false_positive_on_examples_scaffolds_and_synth() {
    for example in ["hello", "shop"] {
        let sb = Sandbox::new(example);
        let run = sb.platc(&["check", "--deny-warnings"]);
        run.assert_ok();
        assert!(!run.all().contains("E0216"), "{example}: {}", run.all());
    }
    let sb = Sandbox::new("hello");
    std::fs::remove_file(sb.repo().join(SPEC)).unwrap();
    for lang in ["go", "rust", "node", "python", "java"] {
        sb.platc(&["new", &format!("scaffold-{lang}"), "--lang", lang, "--owner", "team-a"]).assert_ok();
    }
    let run = sb.platc(&["check", "--deny-warnings"]);
    run.assert_ok();
    assert!(run.all().contains("checked 5 services"), "{}", run.all());
    let init = Sandbox::new("hello");
    std::fs::remove_file(init.repo().join("platform.kdl")).unwrap();
    std::fs::remove_dir_all(init.repo().join("hello")).unwrap();
    init.platc(&["init"]).assert_ok();
    init.platc(&["check", "--deny-warnings"]).assert_ok();

    let synth = crate::common::TempDir::new("synth");
    let bin = synth_binary();
    let out = std::process::Command::new(&bin).arg("300").arg(synth.path()).output().unwrap_or_else(|e| panic!("cannot run {}: {e} (cargo build --bin platc-synth)", bin.display()));
    assert!(out.status.success());
    let check = std::process::Command::new(crate::sandbox::binary()).args(["check", "--deny-warnings"]).arg(synth.path()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert!(check.status.success() && text.contains("checked 300 services: no problems"), "{text}");
}

/// `platc-synth` next to the platc binary under test, else the newer one of either profile.
fn synth_binary() -> std::path::PathBuf {
    let platc = crate::sandbox::binary();
    let target = platc.parent().and_then(|p| p.parent()).expect("target/PROFILE/platc");
    let name = format!("platc-synth{}", std::env::consts::EXE_SUFFIX);
    let mtime = |p: &std::path::PathBuf| p.metadata().and_then(|m| m.modified()).ok();
    std::iter::once(platc.with_file_name(&name))
        .chain(["release", "debug"].iter().map(|p| target.join(p).join(&name)))
        .find(|p| p.is_file() && mtime(p) >= mtime(&platc).map(|t| t - std::time::Duration::from_secs(3600)))
        .or_else(|| ["release", "debug"].iter().map(|p| target.join(p).join(&name)).filter(|p| p.is_file()).max_by_key(mtime))
        .unwrap_or_else(|| panic!("no platc-synth under {}: run `cargo build --bins` first", target.display()))
}
