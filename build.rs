//! Records the git commit the binary is built from, for `run.json` and `--version`: the
//! package version stays 0.1.0 from commit to commit, and the same seed gives the same bytes
//! only with the same code. Built outside immunotrial's own git checkout (a source copy, or
//! without git), the commit is empty and nothing else changes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// git's answer, or why it gave none.
fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("git could not be run: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    String::from_utf8(output.stdout)
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Only a checkout whose top is this package is immunotrial's own: a copy inside another
    // repository would otherwise record that repository's commit.
    let own = git(&["rev-parse", "--show-toplevel"])
        .map(|top| same_dir(Path::new(&top), &manifest))
        .unwrap_or(false);
    let commit = if own {
        git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|why| {
            println!("cargo:warning=the commit is not recorded: {why}");
            String::new()
        })
    } else {
        if manifest.join(".git").exists() {
            // A checkout git would not read (not installed, or a `safe.directory` refusal):
            // say so rather than record nothing silently.
            let why = git(&["rev-parse", "--show-toplevel"])
                .err()
                .unwrap_or_default();
            println!("cargo:warning=the commit is not recorded: {why}");
            // Looked at again when HEAD moves, in case git reads it by then.
            let head = manifest.join(".git").join("HEAD");
            if head.exists() {
                println!("cargo:rerun-if-changed={}", head.display());
            }
        }
        String::new()
    };
    println!("cargo:rustc-env=IMMUNOTRIAL_COMMIT={commit}");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long_version = if commit.is_empty() {
        version
    } else {
        format!("{version} (commit {commit})")
    };
    println!("cargo:rustc-env=IMMUNOTRIAL_LONG_VERSION={long_version}");
    if !own {
        return;
    }
    // Built again when HEAD moves: a checkout (HEAD itself) or a commit (the branch HEAD
    // names: its loose file, or where there is none yet the folder it will be made in; the
    // packed refs; a reftable). Only HEAD's branch, so that making or moving another branch
    // does not compile the crate again. Only paths that exist: cargo runs the script again at
    // every build for one that does not, and the crate is then compiled again too.
    let mut watched = Vec::new();
    if let Ok(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(format!("{dir}/HEAD"));
    }
    if let Ok(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Ok(loose) = git(&["rev-parse", "--git-path", &branch])
    {
        // The loose file, or the nearest folder above it that exists (`refs` always does).
        let mut path = PathBuf::from(&loose);
        while !path.exists() && path.pop() {}
        watched.push(path.display().to_string());
    }
    if let Ok(dir) = git(&["rev-parse", "--git-common-dir"]) {
        for name in ["packed-refs", "reftable"] {
            watched.push(format!("{dir}/{name}"));
        }
    }
    for path in watched {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
