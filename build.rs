//! Records the git commit the binary is built from, for `run.json` and `--version`: the
//! package version stays 0.1.0 from commit to commit, and the same seed gives the same bytes
//! only with the same code. A checkout whose compiled sources differ from its commit records
//! `<commit>-modified-<fingerprint>` (build/provenance.rs). Built outside immunotrial's own git
//! checkout (a source copy, or without git), the commit is empty and nothing else changes.

#[path = "build/provenance.rs"]
mod provenance;

use std::path::{Path, PathBuf};

fn git(args: &[&str]) -> Result<String, String> {
    provenance::git(Path::new("."), args)
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
        match git(&["rev-parse", "--short=12", "HEAD"]) {
            Ok(commit) => match provenance::modified_sources(&manifest) {
                Ok(None) => commit,
                Ok(Some(fingerprint)) => format!("{commit}-modified-{fingerprint}"),
                Err(why) => {
                    // Not knowing whether the sources are as committed, claim nothing.
                    println!("cargo:warning=the commit is not recorded: {why}");
                    String::new()
                }
            },
            Err(why) => {
                println!("cargo:warning=the commit is not recorded: {why}");
                String::new()
            }
        }
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
    // And again when a compiled file changes, to mark or unmark the build as modified (the
    // crate is compiled again then anyway). File by file, not the folders, so that an editor's
    // swap file does not compile the crate again; a new module counts from the edit that
    // declares it.
    if let Ok(paths) = provenance::watched(&manifest) {
        watched.extend(paths.iter().map(|p| p.display().to_string()));
    }
    for path in watched {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
