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

    /// Every README block marked `<!-- excerpt: examples/FILE -->` is a
    /// verbatim excerpt (indentation aside) of that example, which compiles.
    #[test]
    fn readme_excerpts_are_in_their_examples() {
        let readme = include_str!("../README.md");
        let files = [
            ("examples/http.rs", include_str!("http.rs")),
            ("examples/quickstart.rs", include_str!("quickstart.rs")),
            ("examples/readme.rs", include_str!("readme.rs")),
        ];
        let marker = "<!-- excerpt: ";
        let mut checked = 0;
        for (at, _) in readme.match_indices(marker) {
            let rest = &readme[at + marker.len()..];
            let file = &rest[..rest.find(" -->").expect("closed marker")];
            let (_, source) = files
                .iter()
                .find(|(name, _)| *name == file)
                .expect("a known example");
            let start = rest.find("```rust\n").expect("a block") + "```rust\n".len();
            let block = &rest[start..start + rest[start..].find("```").expect("closed")];
            let normalize = |text: &str| -> Vec<String> {
                text.lines()
                    .map(|l| l.trim().to_owned())
                    .filter(|l| !l.is_empty())
                    .collect()
            };
            let (block, source) = (normalize(block), normalize(source));
            assert!(
                source.windows(block.len()).any(|w| w == block.as_slice()),
                "README excerpt differs from {file}: {block:#?}"
            );
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} excerpts found");
    }
}
