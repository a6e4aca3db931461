//! Directories the demo and the benchmarks fill and empty. They never delete what they did not
//! create: a directory is emptied only when it is empty already or carries the marker file its
//! own kind of run left there, and a lock held for the whole run keeps a second run (a second
//! `aftersale demo --dir X`) from emptying it under the first.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const MARKER: &str = ".aftersale-scratch";
const LOCK: &str = ".aftersale-lock";

/// A claimed directory; the lock is released when this is dropped (or the process ends).
#[derive(Debug)]
pub struct Scratch {
    pub dir: PathBuf,
    _lock: File,
}

impl Scratch {
    /// Claims `dir` for runs of `kind` (`demo`, `bench`, `bench-http`): creates it if missing,
    /// refuses a directory that holds anything but a previous run of the same kind, and takes
    /// the lock (refusing when another run holds it).
    pub fn claim(dir: &Path, kind: &str) -> Result<Scratch, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let marker = dir.join(MARKER);
        match std::fs::read_to_string(&marker) {
            Ok(owner) if owner.trim() == kind => {}
            Ok(owner) => {
                return Err(format!(
                    "{} belongs to `aftersale {}`, not `aftersale {kind}`; choose another --dir",
                    dir.display(),
                    owner.trim()
                ))
            }
            Err(_) => {
                let foreign = std::fs::read_dir(dir)
                    .map_err(|e| format!("reading {}: {e}", dir.display()))?
                    .filter_map(Result::ok)
                    .any(|e| e.file_name() != LOCK);
                if foreign {
                    return Err(format!(
                        "{} is not empty and was not made by `aftersale {kind}`; it is left as it is. Choose an empty or new --dir",
                        dir.display()
                    ));
                }
            }
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK))
            .map_err(|e| format!("opening the lock in {}: {e}", dir.display()))?;
        lock.try_lock().map_err(|_| {
            format!(
                "{} is in use by another `aftersale {kind}` (it holds the lock); stop it or choose another --dir",
                dir.display()
            )
        })?;
        let mut m = File::create(&marker).map_err(|e| format!("marking {}: {e}", dir.display()))?;
        m.write_all(kind.as_bytes()).map_err(|e| format!("marking {}: {e}", dir.display()))?;
        Ok(Scratch { dir: dir.to_path_buf(), _lock: lock })
    }

    /// Deletes what an earlier run left (everything but the marker and the lock).
    pub fn empty(&self) -> Result<(), String> {
        for entry in std::fs::read_dir(&self.dir).map_err(|e| format!("reading {}: {e}", self.dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name();
            if name == MARKER || name == LOCK {
                continue;
            }
            let path = entry.path();
            let result = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            result.map_err(|e| format!("emptying {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_foreign_or_busy_directory_is_never_emptied() {
        let root = tempfile::tempdir().unwrap();
        // someone's folder with a file in it: refused, and the file stays
        let mine = root.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("thesis.txt"), "keep me").unwrap();
        assert!(Scratch::claim(&mine, "demo").unwrap_err().contains("not empty"));
        assert!(mine.join("thesis.txt").exists());
        // a new directory is claimed, filled, and emptied on the next claim
        let demo = root.path().join("demo");
        let first = Scratch::claim(&demo, "demo").unwrap();
        std::fs::write(demo.join("aftersale.db"), "x").unwrap();
        // while the first run holds it, a second is refused and deletes nothing
        assert!(Scratch::claim(&demo, "demo").unwrap_err().contains("in use"));
        assert!(demo.join("aftersale.db").exists());
        drop(first);
        let second = Scratch::claim(&demo, "demo").unwrap();
        second.empty().unwrap();
        assert!(!demo.join("aftersale.db").exists());
        // another kind of run does not take the demo's directory
        drop(second);
        assert!(Scratch::claim(&demo, "bench").unwrap_err().contains("belongs to"));
    }
}
