//! The build's record of modified sources (build/provenance.rs, run by build.rs), tested on a
//! git repository of its own so that no build of the crate is needed.

#[path = "../build/provenance.rs"]
mod provenance;

use provenance::{compiled_files, git, modified_sources, watched};
use std::path::{Path, PathBuf};

fn repository(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "immunotrial-provenance-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src/model")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub mod model;\n").unwrap();
    std::fs::write(dir.join("src/model/mod.rs"), "pub const R: f64 = 0.4;\n").unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"p\"\n").unwrap();
    std::fs::write(dir.join("README.md"), "words\n").unwrap();
    for args in [&["init", "-q"][..], &["add", "."]] {
        git(&dir, args).unwrap_or_else(|e| panic!("git {args:?} in {}: {e}", dir.display()));
    }
    commit(&dir);
    dir
}

/// Commits what is staged (as an author of its own, so that no git configuration is needed).
fn commit(dir: &Path) {
    let args = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "-m",
        "a",
    ];
    git(dir, &args).unwrap_or_else(|e| panic!("git commit in {}: {e}", dir.display()));
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn sources_as_committed_are_not_modified_and_changes_to_them_are() {
    let dir = repository("changes");
    assert_eq!(modified_sources(&dir), Ok(None));
    // A document or a file outside the compiled paths changes no build.
    write(&dir, "README.md", "other words\n");
    write(&dir, "notes.txt", "untracked\n");
    assert_eq!(modified_sources(&dir), Ok(None));

    write(&dir, "src/model/mod.rs", "pub const R: f64 = 0.5;\n");
    let first = modified_sources(&dir)
        .unwrap()
        .expect("a changed source is a modified build");
    assert_eq!(first.len(), 8);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    // The same change gives the same fingerprint, another change another.
    assert_eq!(modified_sources(&dir), Ok(Some(first.clone())));
    write(&dir, "src/model/mod.rs", "pub const R: f64 = 0.6;\n");
    let second = modified_sources(&dir).unwrap().expect("modified");
    assert_ne!(first, second);
    // Undone, the build is as committed again.
    write(&dir, "src/model/mod.rs", "pub const R: f64 = 0.4;\n");
    assert_eq!(modified_sources(&dir), Ok(None));

    // A new source file, not yet added, is a change too; so is one staged.
    write(&dir, "src/model/extra.rs", "pub const K: f64 = 1.0;\n");
    let untracked = modified_sources(&dir).unwrap().expect("modified");
    git(&dir, &["add", "src/model/extra.rs"]).unwrap();
    assert_eq!(modified_sources(&dir), Ok(Some(untracked)));
    // Committed, it is the build of the new commit.
    commit(&dir);
    assert_eq!(modified_sources(&dir), Ok(None));
    // Cargo.toml is compiled in (dependencies, features).
    write(
        &dir,
        "Cargo.toml",
        "[package]\nname = \"p\"\nversion = \"2.0.0\"\n",
    );
    assert!(modified_sources(&dir).unwrap().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_is_built_is_what_is_on_disk_whatever_is_staged() {
    let dir = repository("staged");
    // Staged, then undone on disk: the working tree is HEAD's again.
    write(&dir, "src/lib.rs", "pub mod model;\n// z\n");
    git(&dir, &["add", "src/lib.rs"]).unwrap();
    write(&dir, "src/lib.rs", "pub mod model;\n");
    assert_eq!(modified_sources(&dir), Ok(None));
    git(&dir, &["reset", "-q"]).unwrap();
    assert_eq!(modified_sources(&dir), Ok(None));
    // A tracked source deleted, or renamed, is a change.
    std::fs::remove_file(dir.join("src/model/mod.rs")).unwrap();
    assert!(modified_sources(&dir).unwrap().is_some());
    git(&dir, &["checkout", "--", "src/model/mod.rs"]).unwrap();
    assert_eq!(modified_sources(&dir), Ok(None));
    // While a tracked file is gone, the folder it will come back to is watched (not the
    // file: a path that does not exist would run the build script at every build).
    let file = dir.join("src/model/mod.rs");
    std::fs::remove_file(&file).unwrap();
    let paths = watched(&dir).unwrap();
    assert!(
        !paths.contains(&file) && paths.contains(&dir.join("src/model")),
        "{paths:?}"
    );
    std::fs::remove_dir(dir.join("src/model")).unwrap();
    assert!(watched(&dir).unwrap().contains(&dir.join("src")));
    git(&dir, &["checkout", "--", "src/model/mod.rs"]).unwrap();
    assert!(watched(&dir).unwrap().contains(&file));
    git(&dir, &["mv", "src/model/mod.rs", "src/model/rates.rs"]).unwrap();
    assert!(modified_sources(&dir).unwrap().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn editor_and_ignored_files_are_not_sources() {
    let dir = repository("junk");
    write(&dir, ".gitignore", "*.bak\n");
    git(&dir, &["add", ".gitignore"]).unwrap();
    commit(&dir);
    let clean = compiled_files(&dir).unwrap();
    // An editor's swap file (untracked, not ignored, not Rust) and an ignored backup.
    write(&dir, "src/.lib.rs.swp", "swap");
    write(&dir, "src/model/mod.rs.bak", "backup");
    assert_eq!(modified_sources(&dir), Ok(None));
    assert_eq!(compiled_files(&dir).unwrap(), clean);
    // Nor do they enter the fingerprint of a real change.
    write(&dir, "src/lib.rs", "pub mod model;\n// changed\n");
    let with_junk = modified_sources(&dir).unwrap().expect("modified");
    write(&dir, "src/.lib.rs.swp", "another swap");
    write(&dir, "src/model/mod.rs.bak", "another backup");
    assert_eq!(modified_sources(&dir), Ok(Some(with_junk)));
    // Nor does Emacs' lock of an edited buffer, a dangling link named like a Rust file.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("user@host.1:1700000000", dir.join("src/.#lib.rs")).unwrap();
        write(&dir, "src/lib.rs", "pub mod model;\n");
        assert_eq!(modified_sources(&dir), Ok(None));
        std::fs::remove_file(dir.join("src/.#lib.rs")).unwrap();
    }
    // A new Rust file is a source before it is added.
    write(&dir, "src/model/new.rs", "pub const K: f64 = 2.0;\n");
    assert!(
        compiled_files(&dir)
            .unwrap()
            .contains(&dir.join("src/model/new.rs"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn moving_text_between_two_files_changes_the_fingerprint() {
    let dir = repository("moved");
    write(&dir, "src/lib.rs", "pub mod model;\n// a");
    write(&dir, "src/model/mod.rs", "pub const R: f64 = 0.4;\n");
    let one = modified_sources(&dir).unwrap().expect("modified");
    write(&dir, "src/lib.rs", "pub mod model;\n");
    write(&dir, "src/model/mod.rs", "// apub const R: f64 = 0.4;\n");
    let other = modified_sources(&dir).unwrap().expect("modified");
    assert_ne!(one, other);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn this_build_records_its_own_checkout_s_state() {
    // The build of these tests ran build.rs on this checkout: what it recorded must agree
    // with what git says now (the tests run on the sources they were built from).
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = git(top, &["rev-parse", "--show-toplevel"])
        .ok()
        .and_then(|t| Path::new(&t).canonicalize().ok())
        == top.canonicalize().ok();
    if !own {
        assert_eq!(
            immunotrial::COMMIT,
            "",
            "a build outside its own checkout records no commit"
        );
        return;
    }
    let head = git(top, &["rev-parse", "--short=12", "HEAD"]).unwrap();
    let expected = match modified_sources(top).unwrap() {
        None => head,
        Some(fingerprint) => format!("{head}-modified-{fingerprint}"),
    };
    assert_eq!(immunotrial::COMMIT, expected);
}
