"""Encrypted payload mode (docs/enkash-api.md#encryption): AES-128-ECB, PKCS5/PKCS7 padding, Base64, key =
first 16 bytes of SHA-256(client secret, UTF-8), wire body `{"request": "<base64>"}` both ways.

Pure functions, no HTTP: the adapter (sandbox/web/adapter.py), the CLI and partners' own code all use these, so
what the sandbox accepts is exactly what `encrypt_json` produces. AES itself is `cryptography`'s.

The spec comes from EnKash's Payouts guide; Rewards is assumed to use the same scheme
(docs/fidelity.md, "Encrypted payload mode").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from sandbox.contract import jsonio
from sandbox.domain import errors

FIELD = "request"  # the envelope's one key, in requests and responses alike
KEY_BYTES = 16
BLOCK_BITS = 128


def derive_key(secret: str) -> bytes:
    """The AES-128 key of a client: SHA-256 of its secret (UTF-8), first 16 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).digest()[:KEY_BYTES]


def encrypt(plaintext: bytes, key: bytes) -> str:
    """AES-128-ECB with PKCS7 padding, as standard Base64 text."""
    from cryptography.hazmat.primitives import padding  # imported when a partner first encrypts: ~10 ms off start-up
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(BLOCK_BITS).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt(text: str, key: bytes) -> bytes:
    """The plaintext of Base64 `text`; EncryptedRequestInvalid (reason in details) if it is not
    Base64, not whole AES blocks, or its padding is wrong (the usual sign of a wrong key).
    Whitespace inside the text is ignored, as MIME-style encoders wrap lines."""
    try:
        blob = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise errors.EncryptedRequestInvalid(reason="the request value is not valid Base64") from None
    if not blob or len(blob) % (BLOCK_BITS // 8):
        raise errors.EncryptedRequestInvalid(
            reason=f"the ciphertext is {len(blob)} bytes, not a positive multiple of the 16-byte AES block"
        )
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(blob) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise errors.EncryptedRequestInvalid(
            reason="bad PKCS5 padding after decryption: wrong key (client secret) or corrupted ciphertext"
        ) from None


def envelope_text(raw: bytes) -> str | None:
    """The ciphertext of a `{"request": "<text>"}` body, or None when the body is anything else."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and list(doc) == [FIELD] and isinstance(doc[FIELD], str):
        return doc[FIELD]
    return None


def open_request(raw: bytes, key: bytes, text: str | None = None) -> bytes:
    """The plaintext of an enveloped wire body (`text`: its ciphertext, when the caller already
    read it with envelope_text); EncryptedRequestInvalid if there is no envelope or its
    ciphertext does not decrypt."""
    text = text if text is not None else envelope_text(raw)
    if text is None:
        raise errors.EncryptedRequestInvalid(reason='the body is not {"request": "<base64 ciphertext>"}')
    return decrypt(text, key)


# --- for partners and the CLI: whole JSON documents with a client secret ---------------------
def encrypt_json(value: Any, secret: str) -> dict[str, str]:
    """The envelope to send for `value` (a JSON-able object), e.g. `httpx.post(url, json=...)`."""
    return {FIELD: encrypt(jsonio.dumps(value), derive_key(secret))}


def decrypt_json(envelope: dict[str, Any] | str | bytes, secret: str) -> Any:
    """The JSON document inside an envelope: a `{"request": ...}` dict or body, or the bare
    Base64 text. Raises EncryptedRequestInvalid / RequestFormatInvalid as the sandbox would."""
    return parse_plaintext(decrypt_envelope(envelope, secret))


def decrypt_envelope(envelope: dict[str, Any] | str | bytes, secret: str) -> bytes:
    """The exact plaintext bytes inside an envelope (dict, body, or bare Base64 text)."""
    if isinstance(envelope, dict):
        text = envelope.get(FIELD)
        if not isinstance(text, str) or list(envelope) != [FIELD]:
            raise errors.EncryptedRequestInvalid(reason='the body is not {"request": "<base64 ciphertext>"}')
    else:
        raw = envelope.encode("utf-8") if isinstance(envelope, str) else envelope
        text = envelope_text(raw)
        if text is None:
            text = raw.decode("utf-8", errors="replace")
    return decrypt(text, derive_key(secret))


def parse_plaintext(plaintext: bytes) -> Any:
    """The decrypted JSON; RequestFormatInvalid if the plaintext is not a JSON document."""
    try:
        return jsonio.loads(plaintext)
    except errors.MalformedBody as exc:
        raise errors.RequestFormatInvalid(reason="the decrypted request is not JSON: " + exc.message) from None
