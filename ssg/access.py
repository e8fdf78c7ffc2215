"""Signed sign-in tokens: the site's public keys (a JWKS file), and the keys and tokens publishers make.

A token is a compact JWS (RFC 7515) signed with ES256 (ECDSA on P-256 with SHA-256). The build copies the
public keys into the account page, whose script verifies tokens with WebCrypto; the private key stays
with the sign-in service. All cryptography is the `cryptography` package's; this module only moves
bytes between its objects and the JOSE encodings (base64url, raw r||s signatures)."""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .errors import SourceError, SsgError

TIERS = ("registered", "subscriber")
COORDINATE_BYTES = 32  # P-256


@dataclass(frozen=True, slots=True)
class PublicKey:
    kid: str
    x: str   # base64url coordinates, as in the JWKS
    y: str

    def jwk(self) -> dict[str, str]:
        return {"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "alg": "ES256", "use": "sig"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_keys(path: Path, label: str) -> tuple[PublicKey, ...]:
    """Read and check a JWKS file of public P-256 keys; refuse anything else, private keys above all."""
    def refuse(message: str) -> SsgError:
        return SsgError(SourceError(label, 0, message))

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise refuse("the access keys file does not exist; make one with `ssg keys new`") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise refuse(f"is not a JWKS file (JSON with a 'keys' list): {str(exc)[:200]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise refuse("is not a JWKS file: it needs a non-empty 'keys' list")
    keys = []
    for number, jwk in enumerate(data["keys"], 1):
        where = f"key {number}"
        if not isinstance(jwk, dict):
            raise refuse(f"{where} is not an object")
        if "d" in jwk:
            raise refuse(f"{where} is a PRIVATE key ('d' member): the site must hold public keys only; "
                         "remove it and keep the private key with the sign-in service")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or jwk.get("alg", "ES256") != "ES256":
            raise refuse(f"{where} must be an EC P-256 key for ES256 (kty 'EC', crv 'P-256')")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid.strip():
            raise refuse(f"{where} needs a 'kid'")
        try:
            x, y = _unb64url(jwk["x"]), _unb64url(jwk["y"])
            ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                          ec.SECP256R1()).public_key()
        except (KeyError, TypeError, ValueError):
            raise refuse(f"{where} ('{kid[:40]}') is not a valid P-256 public key") from None
        if any(key.kid == kid for key in keys):
            raise refuse(f"two keys have the kid '{kid[:40]}'")
        keys.append(PublicKey(kid, jwk["x"], jwk["y"]))
    return tuple(keys)


def new_key_pair(kid: str) -> tuple[bytes, PublicKey]:
    """A fresh P-256 key pair: the private key as PEM (PKCS#8), the public half for the site's JWKS."""
    private, public = generate_key(kid)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem, public


def generate_key(kid: str) -> tuple[ec.EllipticCurvePrivateKey, PublicKey]:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    return private, PublicKey(kid, b64url(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
                              b64url(numbers.y.to_bytes(COORDINATE_BYTES, "big")))


@dataclass(frozen=True, slots=True)
class PreviewReader:
    """The preview's own signer: its public key is added to the preview's builds only (never to `ssg build`),
    so `?meter=subscriber` can sign the author in as any tier without the publisher's private key."""

    key: ec.EllipticCurvePrivateKey
    public: PublicKey
    issuer: str
    audience: str

    @classmethod
    def new(cls, issuer: str, audience: str) -> PreviewReader:
        key, public = generate_key("ssg-preview")
        return cls(key, public, issuer, audience)

    def tokens(self, now: datetime) -> dict[str, str]:
        return {tier: make_token(self.key, self.public.kid, self.issuer, self.audience, "preview", tier, now,
                                 timedelta(hours=12)) for tier in TIERS}


def add_public_key(path: Path, key: PublicKey) -> None:
    """Add `key` to the JWKS file at `path`, creating it."""
    keys = json.loads(path.read_text(encoding="utf-8"))["keys"] if path.exists() else []
    if any(existing.get("kid") == key.kid for existing in keys):
        raise SsgError(SourceError(str(path), 0, f"a key with the kid '{key.kid}' is already there; choose another --kid"))
    keys.append(key.jwk())
    path.write_text(json.dumps({"keys": keys}, indent=2) + "\n", encoding="utf-8")


def write_private_key(path: Path, pem: bytes) -> None:
    """Write the private key readable by its owner only (mode 0600), never over an existing file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in a PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SsgError(SourceError(str(path), 0, f"is not a private key in PEM ({str(exc)[:200]})")) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SsgError(SourceError(str(path), 0, "is not a P-256 (ES256) private key"))
    return key


def kid_of(key: ec.EllipticCurvePrivateKey, keys: tuple[PublicKey, ...]) -> str | None:
    """The kid under which the site publishes this private key's public half, if it does."""
    numbers = key.public_key().public_numbers()
    x = b64url(numbers.x.to_bytes(COORDINATE_BYTES, "big"))
    y = b64url(numbers.y.to_bytes(COORDINATE_BYTES, "big"))
    return next((k.kid for k in keys if (k.x, k.y) == (x, y)), None)


def make_token(key: ec.EllipticCurvePrivateKey, kid: str, issuer: str, audience: str, subject: str,
               tier: str, now: datetime, lifetime: timedelta) -> str:
    """A compact JWS the account page accepts: ES256, `kid` in the header, the claims the meter reads."""
    header = {"alg": "ES256", "typ": "JWT", "kid": kid}
    issued = int(now.timestamp())
    claims = {"iss": issuer, "aud": audience, "sub": subject, "iat": issued,
              "exp": issued + int(lifetime.total_seconds()), "tier": tier}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")  # JWS wants raw r||s
    return f"{signing_input}.{b64url(signature)}"
