"""Prints the token of the newest link emailed to an address (file transport, .eml files)."""
import email
import email.policy
import pathlib
import re
import sys

mail_dir, address = pathlib.Path(sys.argv[1]), sys.argv[2].lower()
newest = None
for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if address not in str(message["To"]).lower():
        continue
    body = message.get_body(preferencelist=("plain", "html"))
    found = re.search(r"token=([A-Za-z0-9_-]+)", body.get_content() if body else "")
    if found:
        newest = found.group(1)
if not newest:
    sys.exit(f"no link emailed to {address} in {mail_dir}")
print(newest)
