"""Signing keys of every algorithm pyjwt signs, made fresh for a run, and their public halves.

A team's server verifies tokens one of three ways: a shared secret (``HS*``), a
public key in PEM, or a JWKS document. :func:`generate` makes a key of the
configured algorithm (RSA 2048 for ``RS*``/``PS*``, P-256 / P-384 for
``ES256``/``ES384``, Ed25519 for ``EdDSA``, 48 random bytes for ``HS*``) and
gives both halves; :func:`jwks` writes the public half as a JWKS document.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HMAC = ("HS256", "HS384", "HS512")
RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC: dict[str, ec.EllipticCurve] = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}
ALGORITHMS: tuple[str, ...] = (*HMAC, *RSA, *EC, "EdDSA")  # options.JWT_ALGORITHMS too


@dataclass(frozen=True)
class KeyPair:
    """``private`` signs (a PEM, or the secret itself for HS*); ``public`` verifies;
    ``kid`` names the key in a JWKS and in each token's header (empty for HS*)."""

    algorithm: str
    private: str
    public: str
    kid: str

    @property
    def symmetric(self) -> bool:
        return self.algorithm in HMAC


def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"JWT algorithm {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
    return algorithm


def generate(algorithm: str) -> KeyPair:
    """A fresh key of ``algorithm``'s kind."""
    check_algorithm(algorithm)
    if algorithm in HMAC:
        secret = secrets.token_urlsafe(48)
        return KeyPair(algorithm, secret, secret, "")
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if algorithm in RSA:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm in EC:
        key = ec.generate_private_key(EC[algorithm])
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = _public_pem(key)
    return KeyPair(algorithm, private, public, _kid(public))


def _public_pem(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _kid(public_pem: str) -> str:
    return hashlib.sha256(public_pem.encode()).hexdigest()[:16]


def key_id(algorithm: str, private: str) -> str | None:
    """The ``kid`` of a private key (what :func:`jwks` publishes); ``None`` for HS* or a
    key that is not a PEM private key."""
    if algorithm in HMAC:
        return None
    try:
        key = serialization.load_pem_private_key(private.encode(), password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        return None
    return _kid(_public_pem(key))


def jwks(pair: KeyPair) -> dict[str, Any]:
    """The public half as a JWKS document (``{"keys": [...]}``) with its ``kid`` and ``alg``."""
    if pair.symmetric:
        raise ValueError(f"{pair.algorithm} has no public half to publish as a JWKS")
    algorithm = jwt.get_algorithm_by_name(pair.algorithm)
    jwk = json.loads(algorithm.to_jwk(algorithm.prepare_key(pair.public)))
    jwk.update({"kid": pair.kid, "alg": pair.algorithm, "use": "sig"})
    return {"keys": [jwk]}
