//! Records the git commit the binary is built from, for `run.json` and `--version`: the
//! package version stays 0.1.0 from commit to commit, and the same seed gives the same bytes
//! only with the same code. Built outside a git checkout (or without git), the commit is
//! empty and nothing else changes.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=IMMUNOTRIAL_COMMIT={commit}");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long_version = if commit.is_empty() {
        version
    } else {
        format!("{version} (commit {commit})")
    };
    println!("cargo:rustc-env=IMMUNOTRIAL_LONG_VERSION={long_version}");
    // Built again when HEAD moves: a commit, a checkout or a new branch tip (HEAD in the
    // checkout's git folder, the branches in the folder its worktrees share).
    // Only paths that exist: cargo runs the script again at every build for one that does
    // not, and the crate is then compiled again too.
    let watched = [
        git(&["rev-parse", "--git-dir"]).map(|dir| format!("{dir}/HEAD")),
        git(&["rev-parse", "--git-common-dir"]).map(|dir| format!("{dir}/refs/heads")),
        git(&["rev-parse", "--git-common-dir"]).map(|dir| format!("{dir}/packed-refs")),
    ];
    for path in watched.into_iter().flatten() {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
