//! Whether the sources compiled into immunotrial differ from the commit they are checked out
//! at, and if so a fingerprint of them: a build from a modified checkout records
//! `<commit>-modified-<fingerprint>`, so that two builds with different changes at the same
//! commit are told apart (merge refuses to join their shards) while two copies of one build are
//! not. Used by build.rs, and by tests/provenance.rs on a repository of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is compiled into the binary (the build script and what it includes too). Scenario
/// files, tests, benches and documents are not: changing them changes no result of a build.
pub const COMPILED: [&str; 5] = ["src", "build", "build.rs", "Cargo.toml", "Cargo.lock"];

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

/// `None` when the compiled sources of the checkout at `top` are as committed (nothing staged,
/// changed or untracked among them); otherwise their fingerprint, 8 hex digits.
pub fn modified_sources(top: &Path) -> Result<Option<String>, String> {
    // --no-optional-locks: a build must not write git's index behind the user's back.
    let mut args = vec![
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
    ];
    args.extend(COMPILED);
    if git(top, &args)?.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for path in COMPILED {
        collect_files(&top.join(path), &mut files).map_err(|e| format!("{path}: {e}"))?;
    }
    files.sort();
    let mut hash = Fnv1a::new();
    for file in &files {
        let relative = file.strip_prefix(top).unwrap_or(file);
        let content = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        // Name and length first, so that moving bytes from one file to the next changes it.
        hash.write(relative.to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(&(content.len() as u64).to_le_bytes());
        hash.write(&content);
    }
    Ok(Some(format!("{:08x}", hash.finish() >> 32)))
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_files(&entry?.path(), files)?;
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
    Ok(())
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
