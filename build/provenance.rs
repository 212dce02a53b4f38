//! Whether the sources compiled into immunotrial differ from the commit they are checked out
//! at, and if so a fingerprint of them: a build from a modified checkout records
//! `<commit>-modified-<fingerprint>`, so that two builds with different changes at the same
//! commit are told apart (merge refuses to join their shards) while two copies of one build are
//! not. Used by build.rs, and by tests/provenance.rs on a repository of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is compiled into the binary: the sources, what they include (the report's font), the
/// build script and what it includes, the manifest and lock file, and cargo's configuration
/// (the target CPU). Scenario files, tests, benches and documents are not: changing them
/// changes no result of a build.
pub const COMPILED: [&str; 7] = [
    "src",
    "assets",
    "build",
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
];

/// git's answer in `dir`, or why it gave none.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("git could not be run: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    String::from_utf8(output.stdout)
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

/// The compiled files of the checkout at `top` that exist now, sorted: those git tracks, and
/// new Rust files it would add (untracked, not ignored: a module not yet committed). What the
/// fingerprint reads and the build script watches; an editor's swap or backup file is neither.
pub fn compiled_files(top: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = list(top, &["--cached"])?
        .into_iter()
        .chain(new_sources(top)?)
        .map(|name| top.join(name))
        // A tracked file deleted from the working tree is a change, found by the diff.
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Untracked, not ignored Rust files among the compiled paths: files, not an editor's lock
/// (Emacs' `.#name.rs` is a dangling link).
fn new_sources(top: &Path) -> Result<Vec<String>, String> {
    let mut names = list(top, &["--others", "--exclude-standard"])?;
    names.retain(|name| name.ends_with(".rs") && top.join(name).is_file());
    Ok(names)
}

/// What the build script watches to mark or unmark the build: the compiled files, and for a
/// tracked file deleted from the working tree the nearest folder above it that exists, whose
/// change tells when it comes back (a path that does not exist would run the script, and
/// compile the crate, at every build).
pub fn watched(top: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths = compiled_files(top)?;
    for name in list(top, &["--deleted"])? {
        let mut folder = top.join(name);
        while !folder.is_dir() && folder.pop() {}
        paths.push(folder);
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// `git ls-files` of the compiled paths with `options`, one name each.
fn list(top: &Path, options: &[&str]) -> Result<Vec<String>, String> {
    // --no-optional-locks: a build must not write git's index behind the user's back.
    let mut args = vec!["--no-optional-locks", "ls-files", "-z"];
    args.extend(options);
    args.push("--");
    args.extend(COMPILED);
    Ok(git(top, &args)?
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect())
}

/// `None` when the compiled files of the checkout at `top` are those of its HEAD commit;
/// otherwise their fingerprint, 8 hex digits. Compares the working tree with HEAD, whatever
/// is staged: what is built is what is on disk.
pub fn modified_sources(top: &Path) -> Result<Option<String>, String> {
    let mut diff = vec!["--no-optional-locks", "diff", "--name-only", "HEAD", "--"];
    diff.extend(COMPILED);
    if git(top, &diff)?.is_empty() && new_sources(top)?.is_empty() {
        return Ok(None);
    }
    let mut hash = Fnv1a::new();
    for file in compiled_files(top)? {
        let relative = file.strip_prefix(top).unwrap_or(&file);
        let content = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        // Name and length first, so that moving bytes from one file to the next changes it.
        hash.write(relative.to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(&(content.len() as u64).to_le_bytes());
        hash.write(&content);
    }
    Ok(Some(format!("{:08x}", hash.finish() >> 32)))
}

/// FNV-1a, 64 bits: a fingerprint that stays the same from one Rust release to the next,
/// which std's hasher does not promise.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
