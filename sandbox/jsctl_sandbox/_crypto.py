"""The login page's RSA key and the server side of the password envelope (sheet 3.3)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class PasswordKey:
    """An RSA key pair whose public half goes to browsers in the jms_public_key cookie."""

    def __init__(self) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # No trailing newline: 450 bytes of PEM base64-encode without '=' padding, as on v4.10.16.
        self.cookie_value = base64.b64encode(pem.rstrip(b"\n")).decode("ascii")

    def decrypt_field(self, value: str, separator: str) -> str:
        """Decrypt an EncryptedField value; anything that does not decrypt is used as is."""
        parts = value.split(separator)
        if len(parts) != 2 or not all(parts):
            return value
        try:
            key = self._private.decrypt(base64.b64decode(parts[0]), padding.PKCS1v15())
            size = 16 if len(key) <= 16 else 32
            if len(key) > size:
                return value
            decryptor = Cipher(algorithms.AES(key.ljust(size, b"\0")), modes.ECB()).decryptor()
            plain = decryptor.update(base64.b64decode(parts[1])) + decryptor.finalize()
            return plain.rstrip(b"\0").decode("utf-8")
        except Exception:
            return value
