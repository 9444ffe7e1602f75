//! Post files of a chosen size and frontmatter nesting depth, in the shapes
//! that are hard on the YAML and TOML parsers and on locating positions:
//! shared by the tests (`pathological.rs`) and `benches/frontmatter.rs`.

/// One kind of hard input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `title: [[[[…` (YAML flow sequences), closed or not.
    YamlFlowSeq,
    /// `title: {a: {a: …` (YAML flow mappings).
    YamlFlowMap,
    /// `title: - - - …` (compact YAML block sequences).
    YamlBlockSeq,
    /// `title:` then `a:` lines, each indented one more space.
    YamlBlockMap,
    /// `depth` levels of `[`, then a flat list filling the size.
    YamlWideAtDepth,
    /// `title: aaaa…` on one line.
    YamlLongPlain,
    /// `title: "…\"…"` on one line.
    YamlLongQuoted,
    /// Many unknown top-level keys.
    YamlManyKeys,
    /// Many `variants` entries.
    YamlManyVariants,
    /// `title = [[[[…` (TOML arrays).
    TomlArray,
    /// `title = {a = {a = …` (TOML inline tables).
    TomlInline,
    /// `title.a.a.a… = 1` (TOML dotted keys).
    TomlDotted,
    /// `title = "aaaa…"` on one line.
    TomlLongString,
    /// Many unknown top-level keys.
    TomlManyKeys,
}

pub const SHAPES: &[Shape] = &[
    Shape::YamlFlowSeq,
    Shape::YamlFlowMap,
    Shape::YamlBlockSeq,
    Shape::YamlBlockMap,
    Shape::YamlWideAtDepth,
    Shape::YamlLongPlain,
    Shape::YamlLongQuoted,
    Shape::YamlManyKeys,
    Shape::YamlManyVariants,
    Shape::TomlArray,
    Shape::TomlInline,
    Shape::TomlDotted,
    Shape::TomlLongString,
    Shape::TomlManyKeys,
];

impl Shape {
    /// Whether `depth` counts levels of nesting in this shape.
    pub fn nests(self) -> bool {
        matches!(
            self,
            Shape::YamlFlowSeq
                | Shape::YamlFlowMap
                | Shape::YamlBlockSeq
                | Shape::YamlBlockMap
                | Shape::YamlWideAtDepth
                | Shape::TomlArray
                | Shape::TomlInline
                | Shape::TomlDotted
        )
    }

    /// A post file of about `size` bytes. Nesting shapes nest `depth` levels
    /// (the `title` key being the first) and repeat that to fill the size.
    pub fn post(self, depth: usize, size: usize) -> String {
        let yaml = |fm: String| format!("---\nid: p\nto: [bsky]\n{fm}\n---\nBody.\n");
        let toml = |fm: String| format!("+++\nid = \"p\"\nto = [\"bsky\"]\n{fm}\n+++\nBody.\n");
        let fill = |unit: &str| unit.repeat((size / unit.len().max(1)).max(1));
        let d = depth.saturating_sub(1);
        match self {
            Shape::YamlFlowSeq => {
                let one = "[".repeat(d) + &"]".repeat(d);
                yaml(format!("title: [{}]", fill(&format!("{one},"))))
            }
            Shape::YamlFlowMap => {
                let one = "{a: ".repeat(d) + "x" + &"}".repeat(d);
                yaml(format!("title: [{}]", fill(&format!("{one}, "))))
            }
            Shape::YamlBlockSeq => {
                let line = "- ".repeat(d) + "x\n";
                yaml(format!("title:\n{}", fill(&line)))
            }
            Shape::YamlBlockMap => {
                let mut s = String::from("title:\n");
                'fill: while s.len() < size {
                    for i in 1..=d {
                        s.push_str(&" ".repeat(i));
                        s.push_str(if i == d { "a: x\n" } else { "a:\n" });
                        // A deep block is cut at the size, once past the limit.
                        if s.len() >= size && i > 70 {
                            break 'fill;
                        }
                    }
                    if d == 0 {
                        break;
                    }
                }
                yaml(s)
            }
            Shape::YamlWideAtDepth => {
                let d = d.max(1);
                yaml(format!(
                    "title: {}{}{}",
                    "[".repeat(d),
                    fill("a, "),
                    "]".repeat(d)
                ))
            }
            Shape::YamlLongPlain => yaml(format!("title: {}", fill("word "))),
            Shape::YamlLongQuoted => yaml(format!("title: \"{}\"", fill("a\\\" [{ "))),
            Shape::YamlManyKeys => {
                let mut s = String::new();
                let mut i = 0;
                while s.len() < size {
                    s.push_str(&format!("key{i}: v\n"));
                    i += 1;
                }
                yaml(s)
            }
            Shape::YamlManyVariants => {
                let mut s = String::from("variants:\n");
                let mut i = 0;
                while s.len() < size {
                    s.push_str(&format!("  v{i}: text\n"));
                    i += 1;
                }
                yaml(s)
            }
            Shape::TomlArray => {
                let one = "[".repeat(d) + "1" + &"]".repeat(d);
                toml(format!("title = [{}]", fill(&format!("{one}, "))))
            }
            Shape::TomlInline => {
                let one = "{a = ".repeat(depth.max(1)) + "1" + &"}".repeat(depth.max(1));
                toml(format!("title = [{}]", fill(&format!("{one}, "))))
            }
            Shape::TomlDotted => {
                let key = vec!["a"; d].join(".");
                let mut s = String::new();
                let mut i = 0;
                while s.len() < size || i == 0 {
                    s.push_str(&format!("title{i}.{key} = 1\n"));
                    i += 1;
                }
                toml(s)
            }
            Shape::TomlLongString => toml(format!("title = \"{}\"", fill("a\\\" [{ "))),
            Shape::TomlManyKeys => {
                let mut s = String::new();
                let mut i = 0;
                while s.len() < size {
                    s.push_str(&format!("key{i} = 1\n"));
                    i += 1;
                }
                toml(s)
            }
        }
    }
}
