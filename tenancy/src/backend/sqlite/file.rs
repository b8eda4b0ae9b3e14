//! Which file a tenant's path names now.

use std::path::Path;

use super::io_err;
use crate::error::Result;

/// Which file a path names now: another process that drops a tenant and
/// creates it again makes a new file under the same path, and a pool still
/// open on the old one would read the previous tenant's rows and write into
/// a deleted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    #[cfg(unix)]
    device: u64,
    #[cfg(unix)]
    inode: u64,
    #[cfg(not(unix))]
    created: Option<std::time::SystemTime>,
}

impl FileId {
    /// The file at `path`, or `None` when there is none.
    pub(super) fn of(path: &Path) -> Result<Option<Self>> {
        match std::fs::metadata(path) {
            Ok(meta) => {
                #[cfg(unix)]
                let id = {
                    use std::os::unix::fs::MetadataExt;
                    FileId {
                        device: meta.dev(),
                        inode: meta.ino(),
                    }
                };
                #[cfg(not(unix))]
                let id = FileId {
                    created: meta.created().ok(),
                };
                Ok(Some(id))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot read", path, e)),
        }
    }
}
