//! The real file system's walk (`RealFs::walk`), which lists the top of a tree and shares its
//! subtrees out among the cores: it must find what a plain sorted depth-first walk finds, in
//! the same order, and enter no directory it is told to skip.

use std::path::{Path, PathBuf};

use platc_check::fs::{FileSystem, RealFs};

fn write(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "x").unwrap();
}

/// The walk it replaces: walkdir, sorted by name, depth first.
fn reference(root: &Path, skip: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !skip(e.path()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

#[test]
fn a_wide_tree_is_walked_in_order_without_the_skipped_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("platform.kdl"));
    write(&root.join("README.md"));
    // More directories than the walk lists before sharing them out, two levels down, with
    // files beside directories and names that sort differently by component and by string.
    for team in ["payments", "search", "search-api"] {
        for i in 0..40 {
            let svc = root.join("teams").join(team).join(format!("svc-{i:03}"));
            write(&svc.join("service.kdl"));
            if i % 7 == 0 {
                write(&svc.join("deploy/values.yaml"));
                write(&svc.join("a-file"));
            }
        }
    }
    write(&root.join("teams/search/svc-003/.git/config"));
    write(&root.join("teams/payments/node_modules/x/service.kdl"));
    // An output tree of its own (it has a lock): not searched.
    write(&root.join("teams/payments/svc-010/platc.lock"));
    write(&root.join("teams/payments/svc-010/nested/service.kdl"));
    let skip = |d: &Path| {
        let name = d.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        platc_check::fs::SKIP_DIRS.contains(&name.as_ref()) || name.starts_with('.') || d.join("platc.lock").is_file()
    };
    let found = RealFs.walk(root, &skip).unwrap();
    let expected = reference(root, &skip);
    assert_eq!(found, expected);
    assert_eq!(found.iter().filter(|p| p.ends_with("service.kdl")).count(), 119, "{found:#?}");
    assert!(!found.iter().any(|p| p.components().any(|c| c.as_os_str() == ".git" || c.as_os_str() == "node_modules")));
    assert!(!found.iter().any(|p| p.starts_with(root.join("teams/payments/svc-010"))));
}

#[test]
fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(RealFs.walk(&dir.path().join("nope"), &|_| false).is_err());
}
