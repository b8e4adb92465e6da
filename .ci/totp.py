"""Prints the current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 secret, as an
authenticator app would show it; with a second argument N, the code N steps ahead (a code is
accepted once, so a second sign-in in the same step takes the next)."""
import base64
import hashlib
import hmac
import struct
import sys
import time

secret = sys.argv[1].upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
ahead = int(sys.argv[2]) if len(sys.argv) > 2 else 0
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + ahead), hashlib.sha1).digest()
offset = digest[-1] & 0x0F
code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
print(f"{code:06d}")
