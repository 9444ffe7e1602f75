//! Writing an account's settings into social.toml with `toml_edit`: the
//! rest of the file (comments, order, formatting) stays as the user wrote it.

use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table, value};

fn parse(src: &str) -> Result<DocumentMut, String> {
    src.parse::<DocumentMut>()
        .map_err(|e| format!("invalid TOML: {}", e.message()))
}

/// `src` with `[accounts.NAME]` holding `settings` (added, or updated in place).
pub fn upsert_account(
    src: &str,
    name: &str,
    settings: &[(&str, String)],
) -> Result<String, String> {
    let mut doc = parse(src)?;
    let accounts = doc.entry("accounts").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let accounts = accounts
        .as_table_mut()
        .ok_or("`accounts` is not a table of [accounts.NAME] sections; edit it by hand")?;
    let account = accounts
        .entry(name)
        .or_insert_with(|| Item::Table(Table::new()));
    let account = account.as_table_mut().ok_or_else(|| {
        format!("`accounts.{name}` is not a [accounts.{name}] section; edit it by hand")
    })?;
    for (k, v) in settings {
        match account.get_mut(k) {
            // Keep the key's decoration (a comment after it) when the value changes.
            Some(item) if item.as_str() == Some(v.as_str()) => {}
            Some(item) if item.is_value() => {
                let decor = item.as_value().map(|x| x.decor().clone());
                *item = value(v.as_str());
                if let (Some(d), Some(x)) = (decor, item.as_value_mut()) {
                    *x.decor_mut() = d;
                }
            }
            _ => {
                account.insert(k, value(v.as_str()));
            }
        }
    }
    Ok(doc.to_string())
}

/// `src` without `[accounts.NAME]`, and without NAME in `defaults.to` and
/// in queues' `accounts` lists; also says which of those lists it left.
pub fn remove_account(src: &str, name: &str) -> Result<(String, Vec<String>), String> {
    let mut doc = parse(src)?;
    let mut also = Vec::new();
    if let Some(accounts) = doc.get_mut("accounts").and_then(Item::as_table_like_mut) {
        accounts.remove(name);
    }
    let drop_from = |arr: &mut Array| -> bool {
        let before = arr.len();
        arr.retain(|v| v.as_str() != Some(name));
        // The first element has no space before it, as it was written.
        if let Some(first) = arr.get_mut(0) {
            first.decor_mut().set_prefix("");
        }
        arr.len() != before
    };
    if let Some(to) = doc
        .get_mut("defaults")
        .and_then(|d| d.get_mut("to"))
        .and_then(Item::as_array_mut)
        && drop_from(to)
    {
        also.push("defaults.to".to_string());
    }
    if let Some(queues) = doc.get_mut("queues").and_then(Item::as_table_like_mut) {
        for (qname, q) in queues.iter_mut() {
            if let Some(list) = q.get_mut("accounts").and_then(Item::as_array_mut)
                && drop_from(list)
            {
                also.push(format!("queues.{qname}.accounts"));
            }
        }
    }
    Ok((doc.to_string(), also))
}

/// Replaces `path` with `text` in one step (a temporary file renamed over it).
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("social.toml"),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"# My project
timezone = "Europe/Berlin"   # where I live

[defaults]
to = ["bsky", "x"]  # both

# Bluesky first
[accounts.bsky]
platform = "bluesky"
handle = "alice.bsky.social"  # mine

[queues.weekdays]
accounts = ["bsky", "x"]
mon = ["09:00"]
"#;

    #[test]
    fn adding_keeps_comments_and_order() {
        let out = upsert_account(
            SRC,
            "x",
            &[("platform", "twitter".into()), ("client_id", "abc".into())],
        )
        .unwrap();
        // The new section goes after the last account; nothing else changes.
        let added = "[accounts.x]\nplatform = \"twitter\"\nclient_id = \"abc\"\n\n";
        assert!(
            out.contains(&format!("# mine\n\n{added}[queues.weekdays]")),
            "{out}"
        );
        assert_eq!(out.replace(added, ""), SRC);
    }

    #[test]
    fn updating_keeps_the_comment_after_the_value() {
        let out = upsert_account(
            SRC,
            "bsky",
            &[
                ("platform", "bluesky".into()),
                ("handle", "bob.bsky.social".into()),
            ],
        )
        .unwrap();
        assert!(
            out.contains("handle = \"bob.bsky.social\"  # mine"),
            "{out}"
        );
        assert_eq!(out.replace("bob.bsky.social", "alice.bsky.social"), SRC);
    }

    #[test]
    fn removing_takes_it_out_of_lists_too() {
        let (out, also) = remove_account(SRC, "bsky").unwrap();
        assert!(!out.contains("[accounts.bsky]"), "{out}");
        assert!(out.contains("to = [\"x\"]  # both"), "{out}");
        assert!(out.contains("accounts = [\"x\"]"), "{out}");
        assert!(out.contains("# My project\ntimezone = \"Europe/Berlin\"   # where I live"));
        assert_eq!(also, vec!["defaults.to", "queues.weekdays.accounts"]);
    }

    #[test]
    fn a_first_account_goes_into_a_file_without_accounts() {
        let out = upsert_account(
            "timezone = \"UTC\"\n",
            "fedi",
            &[("platform", "mastodon".into())],
        )
        .unwrap();
        assert_eq!(
            out,
            "timezone = \"UTC\"\n\n[accounts.fedi]\nplatform = \"mastodon\"\n"
        );
    }
}
