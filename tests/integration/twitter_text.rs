//! X's counting against twitter-text's own conformance suite
//! (`../shared/testdata/twitter-text/`: `extract.yml`, `validate.yml`,
//! `tlds.yml`, `v3.json`; see that folder's README). Each test skips with a
//! printed note when the folder is absent (a clone outside this setup).
//!
//! What applies to plain text is checked case by case: URL extraction with
//! indices, weighted lengths and validity (v3 configuration), valid and
//! invalid tweets (v1 configuration, as the references test them), every
//! top-level domain. Not checked, because counting
//! does not depend on them: HTML autolinking (`autolink.yml`, not copied),
//! hashtag, cashtag, mention and reply extraction, single-entity validation
//! (`usernames`, `lists`, `hashtags`, `urls`: twitter-text's `isValidUrl`,
//! which validates one URL string, not text) and the v2 configuration's
//! counter test (`WeightedTweetsCounterTest` counts emoji per code point;
//! X uses v3).

use serde_yaml::Value;
use social::render::count::{twitter_valid, twitter_weighted_length};
use social::render::url::{is_invalid_char, twitter_urls};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/twitter-text");
    if dir.join("extract.yml").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent: twitter-text conformance cases skipped",
            dir.display()
        );
        None
    }
}

fn load(name: &str) -> Option<Value> {
    let dir = data_dir()?;
    let text = std::fs::read_to_string(dir.join(name)).expect("conformance file reads");
    let doc: Value = serde_yaml::from_str(&text).expect("conformance file parses");
    Some(doc["tests"].clone())
}

fn cases<'a>(tests: &'a Value, section: &str) -> &'a [Value] {
    tests[section]
        .as_sequence()
        .unwrap_or_else(|| panic!("section {section} is missing"))
}

fn text_of(case: &Value) -> &str {
    case["text"].as_str().unwrap_or_default()
}

/// Byte offset to code point index (the suite's indices count code points).
fn cp(text: &str, byte: usize) -> u64 {
    text[..byte].chars().count() as u64
}

/// Fails with every differing case listed, and the tally.
#[track_caller]
fn report(what: &str, total: usize, failures: Vec<String>) {
    assert!(total > 0, "{what}: no cases");
    println!("{what}: {} of {total} cases pass", total - failures.len());
    assert!(
        failures.is_empty(),
        "{what}: {} of {total} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn twitter_text_extract_urls() {
    let Some(tests) = load("extract.yml") else {
        return;
    };
    let mut total = 0;
    let mut failures = Vec::new();
    for section in ["urls"] {
        for case in cases(&tests, section) {
            total += 1;
            let text = text_of(case);
            let got: Vec<&str> = twitter_urls(text).into_iter().map(|r| &text[r]).collect();
            let want: Vec<&str> = case["expected"]
                .as_sequence()
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if got != want {
                failures.push(format!(
                    "  {section}: {:?}\n    text {text:?}\n    want {want:?}\n    got  {got:?}",
                    case["description"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    report("extract urls", total, failures);
}

#[test]
fn twitter_text_extract_urls_with_indices() {
    let Some(tests) = load("extract.yml") else {
        return;
    };
    let mut total = 0;
    let mut failures = Vec::new();
    for section in [
        "urls_with_indices",
        "urls_with_directional_markers",
        "tco_urls_with_params",
    ] {
        for case in cases(&tests, section) {
            total += 1;
            let text = text_of(case);
            let got: Vec<(String, [u64; 2])> = twitter_urls(text)
                .into_iter()
                .map(|r| {
                    (
                        text[r.clone()].to_string(),
                        [cp(text, r.start), cp(text, r.end)],
                    )
                })
                .collect();
            let want: Vec<(String, [u64; 2])> = case["expected"]
                .as_sequence()
                .unwrap_or(&Vec::new())
                .iter()
                .map(|e| match e {
                    Value::String(url) => {
                        // tco_urls_with_params lists URLs only.
                        let start = text.find(url.as_str()).unwrap_or(0);
                        (url.clone(), [cp(text, start), cp(text, start + url.len())])
                    }
                    _ => (
                        e["url"].as_str().unwrap_or_default().to_string(),
                        [
                            e["indices"][0].as_u64().unwrap_or(u64::MAX),
                            e["indices"][1].as_u64().unwrap_or(u64::MAX),
                        ],
                    ),
                })
                .collect();
            if got != want {
                failures.push(format!(
                    "  {section}: {:?}\n    text {text:?}\n    want {want:?}\n    got  {got:?}",
                    case["description"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    report("extract urls with indices", total, failures);
}

#[test]
fn twitter_text_every_tld() {
    let Some(tests) = load("tlds.yml") else {
        return;
    };
    let mut total = 0;
    let mut failures = Vec::new();
    for section in ["country", "generic"] {
        for case in cases(&tests, section) {
            total += 1;
            let text = text_of(case);
            let got: Vec<&str> = twitter_urls(text).into_iter().map(|r| &text[r]).collect();
            let want: Vec<&str> = case["expected"]
                .as_sequence()
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if got != want {
                failures.push(format!("  {section}: {text:?}: got {got:?}"));
            }
        }
    }
    report("tlds", total, failures);
}

#[test]
fn twitter_text_weighted_length_v3() {
    let Some(tests) = load("validate.yml") else {
        return;
    };
    let dir = data_dir().expect("checked by load");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("v3.json")).unwrap()).unwrap();
    let max = config["maxWeightedTweetLength"].as_u64().unwrap() as usize;
    let url_weight = config["transformedURLLength"].as_u64().unwrap() as usize;
    let mut total = 0;
    let mut failures = Vec::new();
    for section in [
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ] {
        for case in cases(&tests, section) {
            total += 1;
            let text = text_of(case);
            let want = (
                case["expected"]["weightedLength"].as_u64().unwrap() as usize,
                case["expected"]["valid"].as_bool().unwrap(),
            );
            let got = (
                twitter_weighted_length(text, url_weight),
                twitter_valid(text, max),
            );
            if got != want {
                failures.push(format!(
                    "  {section}: {:?}: want (length, valid) {want:?}, got {got:?}",
                    case["description"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    report("weighted length (v3)", total, failures);
}

/// The `tweets` section is checked with the v1 configuration, as the
/// reference implementations do (140 characters, each weighing 1, URLs
/// 23): the same URL extraction and invalid characters, another weighting.
#[test]
fn twitter_text_valid_tweets_v1() {
    let Some(tests) = load("validate.yml") else {
        return;
    };
    let v1_valid = |text: &str| {
        let text: String = text.nfc().collect();
        let urls = twitter_urls(&text);
        let in_urls: usize = urls.iter().map(|r| text[r.clone()].chars().count()).sum();
        let length = text.chars().count() - in_urls + 23 * urls.len();
        length > 0 && length <= 140 && !text.chars().any(is_invalid_char)
    };
    let cases = cases(&tests, "tweets");
    let failures = cases
        .iter()
        .filter(|c| v1_valid(text_of(c)) != c["expected"].as_bool().unwrap())
        .map(|c| format!("  {:?}", c["description"].as_str().unwrap_or_default()))
        .collect();
    report("valid tweets (v1)", cases.len(), failures);
}
