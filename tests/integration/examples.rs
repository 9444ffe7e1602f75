//! The example content project in `examples/` stays valid.

use crate::common::TestProject;

#[test]
fn example_project_validates_and_previews() {
    let p = TestProject::bare();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/content");
    let dir = dir.to_str().unwrap();
    p.run(&[
        "--project",
        dir,
        "validate",
        "--strict",
        &format!("{dir}/posts"),
    ])
    .code(1)
    .stdout_has("only shown on Mastodon");
    p.run(&["--project", dir, "validate", &format!("{dir}/posts")])
        .code(0)
        .stdout_has("checked 4 files");
    let launch = format!("{dir}/posts/2026-12-01-launch.md");
    p.run(&["--project", dir, "preview", &launch])
        .code(0)
        .stdout_has("Read the announcement")
        .stdout_has("(variant `x`)");
}
