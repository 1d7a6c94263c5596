"""The text a secret's bytes make inside a longer base64 blob, at any byte offset.

Shared by the redactor (which masks a secret in everything the suite writes) and by
FWD-NO-CLIENT-CREDENTIAL (which finds the client's key in what reached the upstream): a key
encoded as part of a longer value, e.g. `Basic base64("user:" + key)`, starts at any of three
byte alignments, and only the whole-secret encoding at offset 0 showed it before.
"""

from __future__ import annotations

import base64


def base64_cores(secret: str, min_chars: int) -> set[str]:
    """For each of the 3 byte alignments, the complete 4-character base64 groups made of the
    secret's bytes only, in the standard and the URL-safe alphabet; only those of at least
    `min_chars` characters (shorter ones would match ordinary text)."""
    raw = secret.encode("utf-8")
    cores = set()
    for offset in range(3):
        core = raw[offset:]
        core = core[: len(core) // 3 * 3]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(core).decode()
            if len(text) >= min_chars:
                cores.add(text)
    return cores
