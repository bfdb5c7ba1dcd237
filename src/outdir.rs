//! Output folders that never lose user data.
//!
//! Every command that writes a folder claims it first with [`OutputDir::claim`]:
//!
//! - `/`, the project folder, a file, and any existing non-empty folder without haihe's
//!   marker (`.haihe-output`, JSON naming the kind of output) are refused, so a command
//!   writes only into folders it created and marked as its own;
//! - a folder marked as another kind of output is refused, and one holding a previous
//!   output of the same kind is replaced only when the caller says so (`--replace`;
//!   a batch's `--resume` and an ensemble's resume have their own rules);
//! - an advisory exclusive lock on `<dir>/.haihe-lock` is held for the life of the
//!   claim: a second writer is refused at once with the folder and the other process
//!   named, or (a batch) waits for it;
//! - staging leftovers of dead processes (`.staging-<pid>`, `.partial/<id>.<pid>`,
//!   `.report-<pid>`) are removed.
//!
//! [`sync_tree`] and [`sync_dir`] make what was written durable before the rename that
//! publishes it (`File::sync_all` on files, fsync of the folders).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Name of the marker file of a haihe output folder.
pub const MARKER: &str = ".haihe-output";
/// Name of the lock file of a haihe output folder.
pub const LOCK: &str = ".haihe-lock";

/// The kinds of output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// `haihe flood` (one run).
    Flood,
    /// `haihe quake`.
    Quake,
    /// `haihe score` (and a batch's `scores/`).
    Score,
    /// `haihe batch` and `haihe report` (a batch folder with `batch.json`, `runs/`).
    Batch,
    /// `haihe validate`.
    Validate,
    /// `haihe flood --ensemble` (`member-NNN/` folders and `ensemble.json`).
    Ensemble,
    /// One member of an ensemble, or one scenario's subfolder of a score output.
    Member,
}

impl OutputKind {
    /// Lower-case name, as in the marker.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Flood => "flood",
            OutputKind::Quake => "quake",
            OutputKind::Score => "score",
            OutputKind::Batch => "batch",
            OutputKind::Validate => "validate",
            OutputKind::Ensemble => "ensemble",
            OutputKind::Member => "member",
        }
    }
}

/// What a second writer does when the folder is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Exclusive; refuse at once if another process holds the folder.
    Refuse,
    /// Exclusive; wait for the other process (a message goes to stderr).
    Wait,
    /// Shared with other shards of the same batch (each writes only its own
    /// `.partial/<id>.<pid>/`); waits while an exclusive writer holds the folder.
    Shared,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    kind: OutputKind,
    #[serde(default)]
    created_by: String,
}

/// A claimed output folder; the lock is released when it is dropped.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    kind: OutputKind,
    previous: Vec<String>,
    created: bool,
    _lock: File,
}

impl Drop for OutputDir {
    /// A claim that wrote nothing (the command failed before its first output) leaves
    /// the folder as it found it: marker and lock go, and the folder too if the claim
    /// created it.
    fn drop(&mut self) {
        if !user_entries(&self.path).is_ok_and(|v| v.is_empty()) {
            return;
        }
        let _ = std::fs::remove_file(self.path.join(MARKER));
        let _ = std::fs::remove_file(self.path.join(LOCK));
        if self.created {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

fn refuse(path: &Path, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: "--out".into(),
        message,
    }
}

/// The kind recorded in `dir`'s marker, if it has a readable one.
pub fn marker_kind(dir: &Path) -> Option<OutputKind> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    serde_json::from_str::<Marker>(&text).ok().map(|m| m.kind)
}

/// Entries of `dir` other than haihe's own bookkeeping (marker, lock, dot-folders of
/// staging), sorted.
pub(crate) fn user_entries(dir: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n != MARKER
                && n != LOCK
                && !n.starts_with(&format!(".{MARKER}.tmp-"))
                && !n.starts_with(".staging-")
                && !n.starts_with(".report-")
                && n != ".partial"
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Whether `dir` looks like the project folder (Cargo.toml beside models/ and src/).
fn is_project_root(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("models").is_dir() && dir.join("src").is_dir()
}

/// Whether process `pid` is alive (Linux: /proc/<pid> exists; elsewhere assumed alive).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// The pid at the end of a staging name (`.staging-123`, `id.123`, `id.123.old`).
fn pid_of(name: &str) -> Option<u32> {
    let name = name.strip_suffix(".old").unwrap_or(name);
    let tail = name.rsplit(['.', '-']).next()?;
    tail.parse().ok()
}

/// Removes staging leftovers of dead processes in `dir`: `.staging-<pid>/`,
/// `.report-<pid>/` and `.partial/<id>.<pid>[.old]/`. With `all`, every one but this
/// process's (the caller holds the exclusive lock, so no other writer is live).
pub fn clean_stale(dir: &Path, all: bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let stale = |name: &str| match pid_of(name) {
        Some(p) if p == std::process::id() => false,
        Some(p) => all || !alive(p),
        None => false,
    };
    let Ok(rd) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if (name.starts_with(".staging-") || name.starts_with(".report-")) && stale(&name) {
            if std::fs::remove_dir_all(&p).is_ok() {
                removed.push(p);
            }
        } else if name == ".partial" {
            if let Ok(inner) = std::fs::read_dir(&p) {
                for f in inner.flatten() {
                    let n = f.file_name().to_string_lossy().into_owned();
                    if stale(&n) && std::fs::remove_dir_all(f.path()).is_ok() {
                        removed.push(f.path());
                    }
                }
            }
            let _ = std::fs::remove_dir(&p);
        }
    }
    removed
}

/// Writes `dir`'s marker (atomically, synced).
fn write_marker(dir: &Path, kind: OutputKind) -> Result<()> {
    let m = Marker {
        kind,
        created_by: crate::scenario::batch::CODE_VERSION.into(),
    };
    let text = serde_json::to_string_pretty(&m).map_err(|e| Error::Data(e.to_string()))?;
    crate::grid::io::write_atomically(&dir.join(MARKER), |p| {
        std::fs::write(p, &text).map_err(|e| Error::io(p, e))
    })
}

impl OutputDir {
    /// Claims `path` for an output of `kind`, refusing at once if another process
    /// writes it (see the module doc). `replace`: a previous output of the same kind
    /// may be replaced.
    pub fn claim(path: &Path, kind: OutputKind, replace: bool) -> Result<OutputDir> {
        Self::claim_with(path, kind, replace, LockMode::Refuse)
    }

    /// [`OutputDir::claim`] with the lock behaviour chosen.
    pub fn claim_with(
        path: &Path,
        kind: OutputKind,
        replace: bool,
        mode: LockMode,
    ) -> Result<OutputDir> {
        if path.as_os_str().is_empty() {
            return Err(refuse(path, "give an output folder".into()));
        }
        if path.exists() {
            let canon = path.canonicalize().map_err(|e| Error::io(path, e))?;
            if canon.parent().is_none() {
                return Err(refuse(
                    path,
                    "is the filesystem root; choose a new or empty folder".into(),
                ));
            }
            if !canon.is_dir() {
                return Err(refuse(
                    path,
                    "is a file, not a folder; choose a new or empty folder".into(),
                ));
            }
            if is_project_root(&canon) {
                return Err(refuse(
                    path,
                    "is the project folder; choose a new or empty folder for the outputs".into(),
                ));
            }
        }
        Self::check_foreign(path, kind)?;
        let created = !path.exists();
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let lock = lock(path, mode)?;
        // Checked again under the lock: another process may have claimed it meanwhile.
        Self::check_foreign(path, kind)?;
        let previous = user_entries(path)?;
        if !previous.is_empty() && !replace {
            return Err(refuse(
                path,
                format!(
                    "holds a previous haihe {k} output; use --replace to overwrite it, or choose an empty folder",
                    k = kind.as_str()
                ),
            ));
        }
        clean_stale(path, mode != LockMode::Shared);
        if marker_kind(path).is_none() {
            write_marker(path, kind)?;
        }
        Ok(OutputDir {
            path: path.to_path_buf(),
            kind,
            previous,
            created,
            _lock: lock,
        })
    }

    /// Refuses a folder that holds something other than a haihe output of `kind`.
    fn check_foreign(path: &Path, kind: OutputKind) -> Result<()> {
        if !path.is_dir() {
            return Ok(());
        }
        match marker_kind(path) {
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(refuse(
                path,
                format!(
                    "holds a haihe {} output, not a {} output; nothing was changed. Choose another folder",
                    k.as_str(),
                    kind.as_str()
                ),
            )),
            None => {
                // A batch folder written before the marker existed is still recognised
                // by its batch.json (the batch checks that it is the same batch).
                if kind == OutputKind::Batch && path.join("batch.json").is_file() {
                    return Ok(());
                }
                if user_entries(path)?.is_empty() {
                    Ok(())
                } else {
                    let also = if kind == OutputKind::Batch {
                        ", and holds no batch.json"
                    } else {
                        ""
                    };
                    Err(refuse(
                        path,
                        format!(
                            "is not empty and is not a haihe {} output (no {MARKER} marker{also}); nothing was changed. Choose a new or empty folder",
                            kind.as_str()
                        ),
                    ))
                }
            }
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kind of output claimed.
    pub fn kind(&self) -> OutputKind {
        self.kind
    }

    /// Whether the folder held a previous output when it was claimed.
    pub fn had_previous(&self) -> bool {
        !self.previous.is_empty()
    }

    /// After a replacing run: removes what the previous output held and the new one did
    /// not write (`written`: names directly inside the folder), so old and new files do
    /// not mix. Subfolders go only if they carry haihe's marker.
    pub fn remove_leftovers(&self, written: &[String]) -> Result<()> {
        for name in &self.previous {
            if written.iter().any(|w| w == name) {
                continue;
            }
            let p = self.path.join(name);
            if p.is_dir() {
                if marker_kind(&p).is_some() {
                    std::fs::remove_dir_all(&p).map_err(|e| Error::io(&p, e))?;
                }
            } else if p.exists() {
                std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
        sync_dir(&self.path)
    }
}

/// Takes the lock of `dir` in `mode`; the file handle holds it.
fn lock(dir: &Path, mode: LockMode) -> Result<File> {
    use std::io::{Read, Seek, Write};
    let p = dir.join(LOCK);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| Error::io(&p, e))?;
    let tried = match mode {
        LockMode::Shared => fs4::FileExt::try_lock_shared(&f),
        _ => fs4::FileExt::try_lock(&f),
    };
    match tried {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another haihe process".to_string()
            } else {
                format!("another haihe process ({holder})")
            };
            if mode == LockMode::Refuse {
                return Err(Error::Invalid {
                    path: dir.to_path_buf(),
                    field: "--out".into(),
                    message: format!(
                        "is being written by {who}; nothing was changed. Wait for it to finish, or choose another folder"
                    ),
                });
            }
            // Ignored when stderr is closed: the wait goes on.
            let _ = writeln!(
                std::io::stderr(),
                "{}: being written by {who}; waiting for it",
                dir.display()
            );
            let got = match mode {
                LockMode::Shared => fs4::FileExt::lock_shared(&f),
                _ => fs4::FileExt::lock(&f),
            };
            got.map_err(|e| Error::io(&p, e))?;
        }
        Err(fs4::TryLockError::Error(e)) => return Err(Error::io(&p, e)),
    }
    if mode != LockMode::Shared {
        let args: Vec<String> = std::env::args().collect();
        let text = format!("pid {}: {}\n", std::process::id(), args.join(" "));
        f.set_len(0).map_err(|e| Error::io(&p, e))?;
        f.rewind().map_err(|e| Error::io(&p, e))?;
        f.write_all(text.as_bytes()).map_err(|e| Error::io(&p, e))?;
    }
    Ok(f)
}

/// Refuses a subfolder that exists, is not empty and does not carry haihe's marker;
/// otherwise creates it and marks it as `kind`. For the per-scenario subfolders of a
/// score output and the members of an ensemble.
pub fn claim_subfolder(dir: &Path, kind: OutputKind) -> Result<()> {
    if dir.exists() && marker_kind(dir).is_none() && !user_entries(dir)?.is_empty() {
        return Err(refuse(
            dir,
            format!(
                "exists and is not a haihe {} folder (no {MARKER} marker); nothing was changed. Move it away or choose another output folder",
                kind.as_str()
            ),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if marker_kind(dir).is_none() {
        write_marker(dir, kind)?;
    }
    Ok(())
}

/// Held while finished outputs are published (renamed into place: a batch's run folder,
/// a report set, a staged folder), so that a stop on a signal ([`exit_between_commits`])
/// never falls between two renames of one publication.
static COMMIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the publication lock (see [`exit_between_commits`]); poisoning is ignored.
pub(crate) fn commit_guard() -> std::sync::MutexGuard<'static, ()> {
    COMMIT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ends the process with `code` once no output is being published and no netCDF file
/// is being written by another thread: what was installed stays whole, what was in
/// progress stays in its staging folder (`.partial/<id>.<pid>`, `.staging-<pid>`),
/// which the next claim of the folder removes. The locks of claimed folders go with the
/// process. For a stop on SIGINT or SIGTERM.
pub fn exit_between_commits(code: i32) -> ! {
    let _commit = commit_guard();
    let _netcdf = crate::grid::io::netcdf_lock();
    // `_exit`, not `exit`: the C libraries' at-exit hooks (HDF5, GDAL) would tear down
    // their state under a thread still inside them and kill the process by a signal
    // instead of ending it with `code`; nothing needs them, the staged files are
    // abandoned and the installed ones are whole.
    signal_hook::low_level::exit(code)
}

/// Fsyncs a folder (its entries: names created, renamed or removed).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let f = File::open(dir).map_err(|e| Error::io(dir, e))?;
        f.sync_all().map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Fsyncs a file, or every file and folder below a folder.
pub fn sync_tree(path: &Path) -> Result<()> {
    if path.is_dir() {
        for e in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let e = e.map_err(|e| Error::io(path, e))?;
            sync_tree(&e.path())?;
        }
        sync_dir(path)
    } else {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))
    }
}

/// Whether `id` is safe as a folder name: ASCII letters, digits, '-', '_' and '.', not
/// starting with '.', at most 128 characters.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Checks an id used as a folder name ([`is_safe_id`]); the error names the file and
/// the field.
pub fn check_id(id: &str, file: &Path, field: &str) -> Result<()> {
    if is_safe_id(id) {
        Ok(())
    } else {
        Err(Error::Invalid {
            path: file.to_path_buf(),
            field: field.into(),
            message: format!(
                "'{id}': use ASCII letters, digits, '-', '_' and '.', not starting with '.' (it names an output folder)"
            ),
        })
    }
}

/// The path a folder will have once installed: a `.partial/<id>.<pid>` step becomes
/// `runs/<id>`, and a `.staging-<pid>` step is dropped. Provenance records use it so
/// that they name folders that exist after the run.
pub fn installed_path(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    let mut comps = p.components().peekable();
    while let Some(c) = comps.next() {
        let name = c.as_os_str().to_string_lossy();
        if matches!(c, Component::Normal(_)) && name == ".partial" {
            if let Some(next) = comps.peek() {
                let n = next.as_os_str().to_string_lossy().into_owned();
                if let Some((id, pid)) = n.rsplit_once('.') {
                    if pid.parse::<u32>().is_ok() {
                        out.push("runs");
                        out.push(id);
                        comps.next();
                        continue;
                    }
                }
            }
        }
        if matches!(c, Component::Normal(_)) && name.starts_with(".staging-") {
            continue;
        }
        out.push(c.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_paths() {
        assert_eq!(
            installed_path(Path::new("out/.partial/flood-t2.123")),
            PathBuf::from("out/runs/flood-t2")
        );
        assert_eq!(
            installed_path(Path::new("/v/.staging-9/flood_rule")),
            PathBuf::from("/v/flood_rule")
        );
        assert_eq!(installed_path(Path::new("a/b")), PathBuf::from("a/b"));
    }

    #[test]
    fn ids_and_pids() {
        assert!(is_safe_id("flood-t2_a.b"));
        for bad in ["..", ".", "", "a/b", "a b", ".hidden", "洪水"] {
            assert!(!is_safe_id(bad), "{bad}");
        }
        assert_eq!(pid_of(".staging-42"), Some(42));
        assert_eq!(pid_of("flood-t2.42.old"), Some(42));
        assert_eq!(pid_of("flood-t2.42"), Some(42));
    }
}
