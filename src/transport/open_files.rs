//! The process's open-files limit: every connection is a file descriptor, and many systems
//! start a process with a soft limit of 1 024 while allowing far more. The server raises its
//! soft limit to the hard one at start, so that the connection limit, not the descriptor
//! limit, decides how many clients it holds.

use rustix::process::{getrlimit, setrlimit, Resource};

/// Raises the soft limit on open files to the hard limit; answers the limit now in force
/// (`None` = unlimited). A refusal leaves the limit as it was.
pub fn raise_open_files_limit() -> Option<u64> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(error) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(%error, "cannot raise the open-files limit");
            return getrlimit(Resource::Nofile).current;
        }
    }
    limit.current
}
