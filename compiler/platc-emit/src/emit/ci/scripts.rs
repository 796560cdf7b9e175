//! Shell scripts shared by the GitHub and GitLab pipelines. POSIX sh (the Terraform image has
//! no bash); every value that comes from outside (branch names, tokens) is read from an
//! environment variable and quoted, never pasted into the script text.

use super::{DEPLOY_DIR, GITOPS_CHECKOUT};

/// `platc build` of one environment with the image tag CI built, so the manifests pin it.
pub(crate) fn build_env(env: &str) -> String {
    format!("platc build --env {env} --set \"image-tag=$IMAGE_TAG\"")
}

/// `platc build` of the preview of the branch in `$PREVIEW_BRANCH`: platc derives the
/// namespace and hosts from the branch itself, exactly as a local
/// `platc build --env preview --set branch=...` does.
pub(crate) fn build_preview(env: &str, with_tag: bool) -> String {
    let tag = if with_tag { " --set \"image-tag=$IMAGE_TAG\"" } else { "" };
    format!("platc build --env {env} --set \"branch=$PREVIEW_BRANCH\"{tag}")
}

/// `platc publish` of the outputs just built into the GitOps checkout (one commit naming the
/// source commit; none when nothing changed).
pub(crate) fn publish(message: &str) -> String {
    format!("platc publish --repo {GITOPS_CHECKOUT} --branch \"$GITOPS_BRANCH\" --message \"{message}\"")
}

/// `platc publish --remove`: deletes the files of the build just made (a preview) from the
/// GitOps checkout, which makes the GitOps engine prune the preview.
pub(crate) fn unpublish(message: &str) -> String {
    format!("platc publish --repo {GITOPS_CHECKOUT} --branch \"$GITOPS_BRANCH\" --remove --message \"{message}\"")
}

/// Clones the GitOps repository `$GITOPS_REPO` at `$GITOPS_BRANCH` with the token in
/// `$GITOPS_TOKEN`, sent as an HTTP header (never part of a URL, so never in a log line).
pub(crate) fn clone_gitops() -> String {
    format!(
        "set -eu\n\
         auth=\"Authorization: Basic $(printf 'oauth2:%s' \"$GITOPS_TOKEN\" | base64 | tr -d '\\n')\"\n\
         git -c \"http.extraHeader=$auth\" clone --depth 1 --branch \"$GITOPS_BRANCH\" \"$GITOPS_REPO\" {GITOPS_CHECKOUT}\n\
         git -C {GITOPS_CHECKOUT} config http.extraHeader \"$auth\"\n"
    )
}

/// Pushes the GitOps checkout; when another pipeline pushed first, rebases and retries.
pub(crate) fn push_gitops() -> String {
    format!(
        "set -eu\n\
         pushed=no\n\
         for attempt in 1 2 3 4 5; do\n\
         \x20 if git -C {GITOPS_CHECKOUT} push origin \"HEAD:$GITOPS_BRANCH\"; then pushed=yes; break; fi\n\
         \x20 echo \"push rejected (attempt $attempt): rebasing onto the remote branch\"\n\
         \x20 git -C {GITOPS_CHECKOUT} pull --rebase origin \"$GITOPS_BRANCH\"\n\
         done\n\
         if [ \"$pushed\" != yes ]; then echo \"could not push to the GitOps repository\" >&2; exit 1; fi\n"
    )
}

/// Runs Terraform in every `deploy/*/terraform/ENV` directory (whatever services have Terraform
/// there); `apply` applies, otherwise it plans. No directory is an error: the job exists because
/// platform.kdl provisions resources with `aws` in this environment.
pub(crate) fn terraform(env: &str, apply: bool) -> String {
    let action = if apply { "apply -input=false -auto-approve -lock-timeout=5m" } else { "plan -input=false -lock-timeout=5m" };
    format!(
        "set -eu\n\
         found=no\n\
         for dir in {DEPLOY_DIR}/*/terraform/{env}; do\n\
         \x20 [ -d \"$dir\" ] || continue\n\
         \x20 found=yes\n\
         \x20 echo \"== $dir\"\n\
         \x20 terraform -chdir=\"$dir\" init -input=false\n\
         \x20 terraform -chdir=\"$dir\" {action}\n\
         done\n\
         if [ \"$found\" != yes ]; then echo \"no Terraform under {DEPLOY_DIR}/*/terraform/{env}: run platc build and commit the output\" >&2; exit 1; fi\n"
    )
}
