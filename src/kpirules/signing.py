"""Result stage: Ed25519 signatures over a result's stamp (`eval --sign`, `verify --public-key`, `keygen`).

A stamp names what a result was made from (the policy's and the facts' sha256, the engine, whether
it carries its trace, the as-of date); `kpirules verify` recomputes everything else from them. A
signature over the stamp says *who* made the result: the holder of the private key.

What is signed is the stamp without its `signature` field, in a canonical form: the bytes of
`MESSAGE_PREFIX` followed by the stamp as JSON with sorted keys, no whitespace (`,` and `:` as
separators) and non-ASCII characters as themselves, in UTF-8. Every stamp field is a text or a
boolean, so re-indenting the result file or reordering its keys does not change what is signed.

    "signature": {"algorithm": "ed25519", "key_id": "<sha256 of the raw public key, hex>",
                  "value": "<the 64-byte signature, base64>"}

Keys are PEM files: the private key PKCS#8 (unencrypted, written with mode 0600), the public key
SubjectPublicKeyInfo. The `cryptography` package does the work; it is an optional extra
(`pip install 'kpirules[sign]'`), imported only here and only when a key is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from .errors import UsageError

ALGORITHM = "ed25519"
MESSAGE_PREFIX = b"kpirules.stamp-signature/1\n"
SIGNATURE_FIELDS = ("algorithm", "key_id", "value")


class SigningError(UsageError):
    """A key that cannot be used: missing `cryptography`, an unreadable or wrong kind of key file."""


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise SigningError("signing and checking signatures need the `cryptography` package, which is not "
                           "installed; install it with `pip install 'kpirules[sign]'`") from None
    return serialization, ed25519, InvalidSignature


def signed_bytes(stamp: dict[str, Any]) -> bytes:
    """What the signature covers: MESSAGE_PREFIX + the canonical JSON of the stamp without `signature`."""
    body = {k: v for k, v in stamp.items() if k != "signature"}
    return MESSAGE_PREFIX + json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                                       allow_nan=False).encode("utf-8")


def key_id(public_key) -> str:
    """The sha256 (hex) of the 32 raw bytes of an Ed25519 public key: the key's name in results."""
    serialization, _, _ = _crypto()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(1 << 16)
    except FileNotFoundError:
        raise SigningError(f"{what} `{path}` does not exist") from None
    except OSError as exc:
        raise SigningError(f"{what} `{path}` cannot be read ({exc.strerror or exc})") from None


def load_private_key(path: str):
    """The Ed25519 private key of a PEM file written by `kpirules keygen`."""
    serialization, ed25519, _ = _crypto()
    data = _read(path, "private key file")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningError(f"private key file `{path}` is protected by a password; kpirules reads only "
                           "unencrypted keys (keep the file private instead: mode 0600)") from None
    except (ValueError, binascii.Error):
        hint = " (it is a public key: sign with the private one)" if b"PUBLIC KEY" in data else ""
        raise SigningError(f"private key file `{path}` is not a PEM private key{hint}") from None
    except Exception as exc:  # e.g. an unsupported algorithm, raised as cryptography's own error
        raise SigningError(f"private key file `{path}` cannot be used ({type(exc).__name__})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningError(f"private key file `{path}` holds a {type(key).__name__.removeprefix('_')} key, not an "
                           "Ed25519 one (make one with `kpirules keygen --out PREFIX`)")
    return key


def load_public_key(path: str):
    """The Ed25519 public key of a PEM file (`PREFIX.pub` of `kpirules keygen`)."""
    serialization, ed25519, _ = _crypto()
    data = _read(path, "public key file")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, binascii.Error):
        hint = " (it is a private key: give the public one, PREFIX.pub)" if b"PRIVATE KEY" in data else ""
        raise SigningError(f"public key file `{path}` is not a PEM public key{hint}") from None
    except Exception as exc:
        raise SigningError(f"public key file `{path}` cannot be used ({type(exc).__name__})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningError(f"public key file `{path}` holds a {type(key).__name__.removeprefix('_')} key, not an "
                           "Ed25519 one")
    return key


def sign(stamp: dict[str, Any], private_key) -> dict[str, Any]:
    """The stamp with its `signature` (any earlier signature is replaced)."""
    body = {k: v for k, v in stamp.items() if k != "signature"}
    value = private_key.sign(signed_bytes(body))
    return {**body, "signature": {"algorithm": ALGORITHM, "key_id": key_id(private_key.public_key()),
                                  "value": base64.b64encode(value).decode("ascii")}}


def check(stamp: Any, public_key) -> tuple[str | None, str]:
    """(None, key id) when `stamp` carries a valid signature by `public_key`; else (the problem, key id)."""
    _, _, invalid_signature = _crypto()
    expected = key_id(public_key)
    if not isinstance(stamp, dict) or "signature" not in stamp:
        return ("the result is not signed, and --public-key asks who made it (sign results with "
                "`kpirules eval --sign KEYFILE`)"), expected
    sig = stamp["signature"]
    if not isinstance(sig, dict) or sig.get("algorithm") != ALGORITHM or not isinstance(sig.get("value"), str) \
            or not isinstance(sig.get("key_id"), str):
        return f"the signature is not an {ALGORITHM} signature of kpirules", expected
    if sig["key_id"] != expected:
        return (f"the result was signed by key {sig['key_id']}, not by the key given ({expected})"), expected
    try:
        raw = base64.b64decode(sig["value"], validate=True)
    except (binascii.Error, ValueError):
        return "the signature's value is not base64", expected
    try:
        public_key.verify(raw, signed_bytes(stamp))
    except invalid_signature:
        return ("the signature does not match the stamp: the stamp was changed after it was signed, "
                "or the signature was"), expected
    return None, expected


def keygen(prefix: str) -> tuple[str, str, str]:
    """Write PREFIX.key (private, mode 0600) and PREFIX.pub (public); (private path, public path, key id).

    Existing files are never overwritten."""
    serialization, ed25519, _ = _crypto()
    private_path, public_path = f"{prefix}.key", f"{prefix}.pub"
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise SigningError(f"`{path}` already exists; kpirules keygen never overwrites a key (choose "
                               "another --out PREFIX, or remove the old files)")
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem)
        os.chmod(private_path, 0o600)  # whatever the umask
        with open(public_path, "xb") as fh:
            fh.write(public_pem)
    except OSError as exc:
        raise SigningError(f"cannot write the key files `{private_path}`, `{public_path}`: "
                           f"{exc.strerror or exc}") from None
    return private_path, public_path, key_id(key.public_key())
