//! Runnable examples of `tenancy`; see `README.md` in this folder.

#[cfg(test)]
mod tests {
    /// The usage sample in the top-level README is a verbatim excerpt of the
    /// quickstart, which compiles and runs; this keeps the two from drifting.
    #[test]
    fn readme_sample_is_the_quickstart() {
        let readme = include_str!("../README.md");
        let quickstart = include_str!("quickstart.rs");
        let start = readme.find("```rust\n").expect("a rust block in README") + "```rust\n".len();
        let len = readme[start..].find("```").expect("closed block");
        let sample = &readme[start..start + len];
        assert!(
            sample.lines().count() >= 15,
            "the sample is the usage sample"
        );
        let body: String = quickstart
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            body.contains(sample.trim_end()),
            "README sample differs from examples/quickstart.rs"
        );
    }
}
