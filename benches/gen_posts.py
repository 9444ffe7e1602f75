#!/usr/bin/env python3
"""Generate a content project with N posts for benchmarks: gen_posts.py DIR N [ACCOUNTS]

ACCOUNTS: "3" (default; two thirds of the posts go to 3 accounts, the rest to 2) or "4" (every post to 4 accounts)."""
import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "3"
os.makedirs(os.path.join(root, "posts"), exist_ok=True)
with open(os.path.join(root, "social.toml"), "w") as f:
    f.write(
        'timezone = "Europe/Berlin"\n'
        '[accounts.bsky]\nplatform = "bluesky"\nhandle = "alice.example.com"\n'
        '[accounts.fedi]\nplatform = "mastodon"\ninstance = "https://hachyderm.io"\n'
        '[accounts.x]\nplatform = "twitter"\nusername = "alice"\n'
        '[accounts.fedi2]\nplatform = "mastodon"\ninstance = "https://mastodon.social"\n'
        '[queues.weekdays]\naccounts = ["bsky", "fedi"]\nmon = ["09:00", "15:00"]\nwed = ["12:30"]\nfri = ["10:00"]\n'
    )
words = "social posts files git review publish schedule daemon thread bluesky mastodon rust".split()
for i in range(n):
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    body = " ".join(words[(i + k) % len(words)] for k in range(8 + i % 12))
    thread = i % 5 == 0
    parts = [
        f"Post {i}: **{body}** [read more](https://example.com/posts/{i}) #rustlang @bob.example.com",
    ]
    if thread:
        parts.append(f"Second part of post {i}, with a link https://example.org/{i} and émojis 🎉👩‍💻.")
    if mode == "4":
        to = "[bsky, fedi, x, fedi2]"
    else:
        to = "[bsky, fedi, x]" if i % 3 else "[bsky, fedi]"
    fm = (
        f"---\nid: post-{i:05d}\ntitle: Post number {i}\nat: 2027-{month:02d}-{day:02d} {9 + i % 8:02d}:{i % 60:02d}\n"
        f"to: {to}\nstatus: ready\nlang: en\n"
        + ("thread: true\n" if thread else "")
        + ("variants:\n  x: A shorter text for X with https://example.com/x\n" if i % 7 == 0 else "")
        + "---\n"
    )
    with open(os.path.join(root, "posts", f"post-{i:05d}.md"), "w") as f:
        f.write(fm + "\n\n---\n\n".join(parts) + "\n")
