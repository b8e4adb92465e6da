"""Prints the current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 secret, as an
authenticator app would show it."""
import base64
import hashlib
import hmac
import struct
import sys
import time

secret = sys.argv[1].upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = digest[-1] & 0x0F
code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
print(f"{code:06d}")
