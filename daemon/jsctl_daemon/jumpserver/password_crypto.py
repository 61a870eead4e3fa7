"""Browser-style password encryption for the login form (RSA PKCS#1 v1.5 + AES-128-ECB).

The server accepts plaintext too; we encrypt like the web UI so logs and proxies in front of
JumpServer see the same thing they see for browsers.
"""

from __future__ import annotations

import base64
import secrets
import string

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "LEGACY_SEPARATOR",
    "NEW_SEPARATOR",
    "decode_public_key_cookie",
    "encrypt_password",
    "separator_from_script",
]

LEGACY_SEPARATOR = ":"
NEW_SEPARATOR = "::encrypted::"
_KEY_ALPHABET = string.ascii_lowercase + string.digits
_KEY_LENGTH = 16  # longer keys get padded to 32 bytes by the server and no longer match


def decode_public_key_cookie(value: str) -> bytes:
    """The PEM inside a ``jms_public_key`` cookie (bare or double-quoted base64)."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    # Quoted cookie values may carry backslash escapes; base64 never contains a backslash.
    text = text.replace("\\", "")
    pem = base64.b64decode(text + "=" * (-len(text) % 4))
    if b"BEGIN PUBLIC KEY" not in pem:
        raise ValueError("the jms_public_key cookie does not hold a PEM public key")
    return pem


def separator_from_script(status: int, body: str) -> str:
    """The cipher separator the site expects, from ``GET /static/js/session-encrypt.js``."""
    if status == 200 and NEW_SEPARATOR in body:
        return NEW_SEPARATOR
    return LEGACY_SEPARATOR


def _nul_pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 16)


def encrypt_password(password: str, public_key_pem: bytes, separator: str) -> str:
    """``base64(RSA(key)) + separator + base64(AES-ECB(key, password))`` as browsers send it."""
    public_key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("the site's password key is not RSA (GM/SM2 sites: send plaintext)")
    aes_key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_LENGTH)).encode()
    key_cipher = public_key.encrypt(aes_key, padding.PKCS1v15())
    encryptor = Cipher(algorithms.AES(_nul_pad(aes_key)), modes.ECB()).encryptor()
    pw_cipher = encryptor.update(_nul_pad(password.encode())) + encryptor.finalize()
    return base64.b64encode(key_cipher).decode() + separator + base64.b64encode(pw_cipher).decode()
