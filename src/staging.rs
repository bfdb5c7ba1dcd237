//! Outputs that appear whole or not at all: files are written into a staging folder
//! inside the output folder and moved into place only when every one has been written.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A folder that receives files and is moved into place as a whole.
pub struct Staged {
    dir: PathBuf,
    out: PathBuf,
    files: Vec<String>,
}

impl Staged {
    /// A staging folder inside `out` (created).
    pub fn new(out: &Path) -> Result<Self> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let dir = out.join(format!(".staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Staged {
            dir,
            out: out.to_path_buf(),
            files: Vec::new(),
        })
    }
    /// The staged path of an output file.
    pub fn path(&mut self, name: &str) -> PathBuf {
        self.files.push(name.to_string());
        self.dir.join(name)
    }
    /// The staging folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Moves every staged file into the output folder; returns their names. The staged
    /// files and folders are fsynced first, and the output folder after the renames, so
    /// a crash leaves either the old file or the whole new one.
    pub fn commit(self) -> Result<Vec<String>> {
        crate::outdir::sync_tree(&self.dir)?;
        // A stop on a signal waits for every file to be moved.
        let _commit = crate::outdir::commit_guard();
        for f in &self.files {
            let to = self.out.join(f);
            std::fs::rename(self.dir.join(f), &to).map_err(|e| Error::io(&to, e))?;
        }
        crate::outdir::sync_dir(&self.out)?;
        Ok(self.files.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Committed or not, the staging folder goes; uncommitted files go with it.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
