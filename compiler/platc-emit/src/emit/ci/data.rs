//! The CI data a platform engineer edits, read from the stdlib (and its overlays):
//! `ci/actions.yaml` (pinned third-party actions), `ci/platc.yaml` (runner, tool images, secret
//! names, how CI gets platc) and `ci/languages/LANG.yaml` (setup, cache and test commands).
//!
//! Files are YAML. Placeholders such as `{dir}` are replaced in string values after parsing, so
//! a value can never change the structure of a generated pipeline.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::model::Language;
use crate::stdlib::Stdlib;

/// A problem with CI data in the stdlib or an overlay (a broken overlay, not a broken spec).
pub use crate::emit::backend::DataProblem as CiError;

pub(crate) const ACTIONS_FILE: &str = "ci/actions.yaml";
pub(crate) const SETTINGS_FILE: &str = "ci/platc.yaml";

/// The stdlib path of a language's CI data.
pub(crate) fn language_file(lang: &Language) -> String {
    format!("{}{}.yaml", crate::stdlib::LANGUAGES_DIR, lang.as_str())
}

/// The stdlib path of a language's Dockerfile template.
pub(crate) fn dockerfile_template(lang: &Language) -> String {
    format!("docker/{}.Dockerfile.hbs", lang.as_str())
}

/// One action pinned to a commit: `uses: REPO@SHA # VERSION`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionPin {
    pub repo: String,
    pub sha: String,
    pub version: String,
}

impl ActionPin {
    pub(crate) fn reference(&self) -> String {
        format!("{}@{}", self.repo, self.sha)
    }
}

/// `ci/platc.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Settings {
    pub runner: String,
    pub default_branch: String,
    pub timeout_minutes: u32,
    pub deploy_timeout_minutes: u32,
    pub install: Install,
    pub terraform: Terraform,
    pub cosign: Cosign,
    pub docker: Docker,
    pub secrets: Secrets,
    pub variables: Variables,
    pub git_identity: GitIdentity,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Install {
    /// GitHub Actions steps.
    pub github: Vec<Json>,
    pub gitlab: GitlabInstall,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct GitlabInstall {
    pub image: String,
    pub cache: Json,
    pub before_script: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Terraform {
    pub version: String,
    pub gitlab_image: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Cosign {
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Docker {
    pub gitlab_image: String,
    pub gitlab_service: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Secrets {
    pub gitops_token: String,
    pub registry_username: String,
    pub registry_password: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Variables {
    pub aws_role: String,
    pub aws_plan_role: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct GitIdentity {
    pub name: String,
    pub email: String,
}

/// `ci/languages/LANG.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct LanguageCi {
    /// Shown in job names.
    pub name: String,
    /// Shell commands run in the service directory.
    pub test: Vec<String>,
    pub github: GithubLanguage,
    pub gitlab: GitlabLanguage,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct GithubLanguage {
    /// Steps before the test commands (toolchain, cache).
    pub setup: Vec<Json>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct GitlabLanguage {
    pub image: String,
    #[serde(default)]
    pub variables: IndexMap<String, String>,
    #[serde(default)]
    pub cache: Option<Json>,
}

/// Every piece of CI data one generation needs, with placeholders not yet filled in (they
/// differ per service).
#[derive(Debug, Clone)]
pub(crate) struct CiData {
    pub actions: IndexMap<String, ActionPin>,
    pub settings: Settings,
    /// Language data as parsed YAML, typed per service after placeholders are filled in.
    languages: BTreeMap<String, (String, Json)>,
    pub templates: BTreeMap<String, (String, String)>,
}

impl CiData {
    /// Reads the shared files and the files of each language in `languages`.
    pub(crate) fn load(stdlib: &Stdlib, languages: &[Language], platc_version: &str) -> Result<CiData, Vec<CiError>> {
        let mut errors = Vec::new();
        let actions: Option<IndexMap<String, ActionPin>> = read_typed(stdlib, ACTIONS_FILE, &[], &mut errors);
        if let Some(actions) = &actions {
            for (key, pin) in actions {
                let sha_ok = pin.sha.len() == 40 && pin.sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
                if !sha_ok {
                    errors.push(CiError { file: display(stdlib, ACTIONS_FILE), message: format!("`{key}`: sha must be a full 40-character lowercase commit SHA, not `{}`", pin.sha) });
                }
                if pin.repo.split('/').filter(|p| !p.is_empty()).count() < 2 {
                    errors.push(CiError { file: display(stdlib, ACTIONS_FILE), message: format!("`{key}`: repo must be OWNER/REPO, not `{}`", pin.repo) });
                }
            }
        }
        let settings: Option<Settings> = read_typed(stdlib, SETTINGS_FILE, &[("platc_version", platc_version)], &mut errors);
        let mut langs = BTreeMap::new();
        let mut templates = BTreeMap::new();
        for lang in languages {
            let path = language_file(lang);
            if let Some(v) = read_json(stdlib, &path, &mut errors) {
                // Typed once here with dummy placeholders, so that a broken file is reported
                // even before a service uses it.
                let probe = substitute(&v, &[("service", "s"), ("dir", "d")]);
                if let Err(e) = serde_json::from_value::<LanguageCi>(probe) {
                    errors.push(CiError { file: display(stdlib, &path), message: e.to_string() });
                }
                langs.insert(lang.as_str().to_string(), (display(stdlib, &path), v));
            }
            let tpl = dockerfile_template(lang);
            match stdlib.get(&tpl) {
                Some(f) => {
                    templates.insert(lang.as_str().to_string(), (f.display.clone(), f.text.clone()));
                }
                // Reported in the language's own file: that is what defines the language, and
                // what a platform team adding one looks at.
                None => errors.push(CiError {
                    file: display(stdlib, &path),
                    message: format!("language `{lang}` has no Dockerfile template: every language needs {tpl} next to {path} (see docs/stdlib.md, \"Adding a language\")"),
                }),
            }
        }
        match (actions, settings, errors.is_empty()) {
            (Some(actions), Some(settings), true) => Ok(CiData { actions, settings, languages: langs, templates }),
            _ => Err(errors),
        }
    }

    /// The CI data of a language with the placeholders of one service filled in.
    pub(crate) fn language(&self, lang: &Language, service: &str, dir: &str) -> Result<LanguageCi, CiError> {
        let (file, v) = self.languages.get(lang.as_str()).ok_or_else(|| CiError { file: language_file(lang), message: "not loaded".into() })?;
        serde_json::from_value(substitute(v, &[("service", service), ("dir", dir)])).map_err(|e| CiError { file: file.clone(), message: e.to_string() })
    }

    /// The pin of an action key, or an error naming the keys there are.
    pub(crate) fn action(&self, key: &str) -> Result<&ActionPin, CiError> {
        self.actions.get(key).ok_or_else(|| CiError {
            file: format!("<stdlib>/{ACTIONS_FILE}"),
            message: format!("no action `{key}` is pinned; known: {}", self.actions.keys().cloned().collect::<Vec<_>>().join(", ")),
        })
    }
}

fn display(stdlib: &Stdlib, path: &str) -> String {
    stdlib.get(path).map(|f| f.display.clone()).unwrap_or_else(|| format!("<stdlib>/{path}"))
}

fn read_json(stdlib: &Stdlib, path: &str, errors: &mut Vec<CiError>) -> Option<Json> {
    let Some(file) = stdlib.get(path) else {
        errors.push(CiError { file: format!("<stdlib>/{path}"), message: "missing".into() });
        return None;
    };
    match serde_saphyr::from_str::<Json>(&file.text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(CiError { file: file.display.clone(), message: format!("not valid YAML: {e}") });
            None
        }
    }
}

fn read_typed<T: DeserializeOwned>(stdlib: &Stdlib, path: &str, vars: &[(&str, &str)], errors: &mut Vec<CiError>) -> Option<T> {
    let v = read_json(stdlib, path, errors)?;
    match serde_json::from_value(substitute(&v, vars)) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(CiError { file: display(stdlib, path), message: e.to_string() });
            None
        }
    }
}

/// Replaces `{name}` by its value in every string of `v` (keys included).
pub(crate) fn substitute(v: &Json, vars: &[(&str, &str)]) -> Json {
    let fill = |s: &str| {
        let mut out = s.to_string();
        for (k, val) in vars {
            out = out.replace(&format!("{{{k}}}"), val);
        }
        out
    };
    match v {
        Json::String(s) => Json::String(fill(s)),
        Json::Array(a) => Json::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, x)| (fill(k), substitute(x, vars))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_loads_for_every_language() {
        let langs: Vec<Language> = Stdlib::builtin().languages().into_iter().map(Language::new).collect();
        assert!(langs.len() >= 5, "{langs:?}");
        let data = CiData::load(&Stdlib::builtin(), &langs, "0.1.0").unwrap_or_else(|e| panic!("{e:?}"));
        for l in &langs {
            let ci = data.language(l, "svc", "services/svc").unwrap();
            assert!(!ci.test.is_empty(), "{l:?}");
            assert!(!ci.github.setup.is_empty(), "{l:?}");
            let text = serde_json::to_string(&ci.github.setup).unwrap();
            assert!(!text.contains("{dir}") && !text.contains("{service}"), "{text}");
        }
        assert!(data.settings.install.gitlab.before_script.iter().any(|l| l.contains("0.1.0")));
    }

    #[test]
    fn placeholders_only_replace_whole_tokens() {
        let v = serde_json::json!({"a": "${{ runner.os }}-{dir}", "b": ["{service}", 3]});
        let s = substitute(&v, &[("dir", "x/y"), ("service", "svc")]);
        assert_eq!(s, serde_json::json!({"a": "${{ runner.os }}-x/y", "b": ["svc", 3]}));
    }

    #[test]
    fn a_language_without_a_dockerfile_template_is_reported_in_its_file() {
        let mut fs = crate::fs::MemoryFs::new();
        fs.add("/ov/ci/languages/elixir.yaml", "name: Elixir\ntest: [mix test]\ngithub:\n  setup: []\ngitlab:\n  image: elixir:1.18\n");
        let lib = Stdlib::with_overlays(&fs, &[std::path::PathBuf::from("/ov")]).unwrap();
        let errors = CiData::load(&lib, &[Language::new("elixir")], "0.1.0").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, "/ov/ci/languages/elixir.yaml");
        assert!(errors[0].message.contains("docker/elixir.Dockerfile.hbs"), "{errors:?}");
    }

    #[test]
    fn an_overlay_with_a_short_sha_is_rejected() {
        let mut fs = crate::fs::MemoryFs::new();
        fs.add("/ov/ci/actions.yaml", "checkout:\n  repo: actions/checkout\n  sha: v7\n  version: v7\n");
        let lib = Stdlib::with_overlays(&fs, &[std::path::PathBuf::from("/ov")]).unwrap();
        let errors = CiData::load(&lib, &[], "0.1.0").unwrap_err();
        assert!(errors.iter().any(|e| e.message.contains("40-character")), "{errors:?}");
    }
}
