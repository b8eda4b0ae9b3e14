//! Replays every file of the committed fuzz corpora (`fuzz/corpus/`)
//! through the same property checks as the fuzz targets, so CI guards them
//! on stable without cargo-fuzz. The checks live in `fuzz-checks/`.

#[cfg(test)]
mod tests {
    use std::{
        fs,
        panic::{AssertUnwindSafe, catch_unwind},
        path::{Path, PathBuf},
    };

    use tenancy_fuzz_checks as checks;

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
    }

    /// Runs `check` on every file under `dir`; returns how many ran and
    /// the failures, each with its file and message.
    fn replay(dir: &Path, check: fn(&[u8])) -> (usize, Vec<String>) {
        let mut files: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        let mut failures = Vec::new();
        for path in &files {
            let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", path.display()));
            }
        }
        (files.len(), failures)
    }

    fn replay_target(target: &str, check: fn(&[u8])) {
        let (ran, failures) = replay(&fuzz_dir().join("corpus").join(target), check);
        assert!(ran > 0, "the {target} corpus is empty");
        assert!(
            failures.is_empty(),
            "{} of {ran} {target} inputs fail:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn fuzz_corpus_tenant_name() {
        replay_target("tenant_name", checks::tenant_name);
    }

    #[test]
    fn fuzz_corpus_rewrite() {
        replay_target("rewrite", checks::rewrite);
    }

    /// The rewriter bugs the fuzzer found (fuzz/README.md), fixed: kept as
    /// regressions.
    #[test]
    fn fuzz_findings_rewrite() {
        let (ran, failures) = replay(&fuzz_dir().join("findings/rewrite"), checks::rewrite);
        assert!(
            failures.is_empty(),
            "{} of {ran} findings still fail:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
