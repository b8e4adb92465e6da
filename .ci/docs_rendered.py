"""Checks the DOM headless Chromium rendered for /docs: Redoc ran (its operation list is
there) and every operation of the document is listed, by summary."""
import json
import re
import sys
import html

doc = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8").read()
# Redoc renders the menu and each operation's heading; noscript content is not rendered.
if 'class="redoc-wrap"' not in dom and "redoc-wrap" not in dom:
    sys.exit("/docs: Redoc did not render (no redoc-wrap in the DOM)")
text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
text = re.sub(r"\s+", " ", text)
missing = []
count = 0
for path, item in doc["paths"].items():
    for method, operation in item.items():
        count += 1
        summary = re.sub(r"\s+", " ", operation.get("summary", "")).strip()
        if summary[:40] not in text:
            missing.append(f"{method.upper()} {path}: {summary[:40]!r}")
if missing:
    sys.exit(f"/docs: {len(missing)} of {count} operations not rendered:\n  " + "\n  ".join(missing[:10]))
print(f"/docs rendered by Redoc in headless Chromium with all {count} operations")
