"""Anonymous voting keys for the Burgerraad: RSA blind signatures (full-domain hash), receipts,
and the public recount. Pure functions on integers and strings; the member's browser runs the
same steps in ``web/static/council.js``.

The protocol, for a vote with public key ``(n, e)``:

1. The member's browser draws a random ``secret`` (32 bytes, hex) and a blinding factor ``r``.
   Its voting key's public name is ``credential = SHA-256("summit.council.voting-key.v1:" +
   secret)``. The browser sends ``blinded = H(m) · r^e mod n`` with
   ``m = "summit.council.credential.v1:<vote>:<credential>"`` and ``H`` the full-domain hash
   (MGF1 with SHA-256 to the modulus' length, reduced mod ``n``).
2. The server checks that the caller is a member without a key yet and returns
   ``blinded^d mod n``. It learns nothing about the key: for every possible credential there is
   an ``r`` that gives the same ``blinded``.
3. The browser unblinds: ``signature = blinded^d · r^-1 mod n``, a valid RSA signature of ``m``.
4. Ballots are sent with ``(secret, signature)`` and no session: the server derives the
   credential, checks ``signature^e mod n == H(m)`` and stores the ballot under the credential.
   The secret itself is never stored, so a copy of the database cannot cast or change a ballot.

Receipts follow from the credential, ballot by ballot; after the count the credentials and their
signatures are published, so anyone can check every ballot and recount.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from summit.core.i18n import gettext as _
from summit.council.rules.voting import (
    MAX_BALLOT_VERSIONS,
    RECEIPT_ALPHABET,
    RECEIPT_GROUP_SIZE,
    RECEIPT_GROUPS,
    Choice,
    VotingError,
    parse_choice,
)

#: A voting key's secret (and its public name, the credential): 64 lowercase hex characters.
SECRET_HEX = 64
#: The public exponent of every ballot key.
PUBLIC_EXPONENT = 65537
#: Modulus size of a vote's ballot key.
KEY_BITS = 2048


@dataclass(frozen=True)
class PublicKey:
    """A vote's ballot key as published: modulus and exponent."""

    n: int
    e: int = PUBLIC_EXPONENT

    @property
    def size(self) -> int:
        """The modulus' length in bytes."""
        return (self.n.bit_length() + 7) // 8

    def as_json(self) -> dict[str, object]:
        return {"n": format(self.n, "x"), "e": self.e, "sha256": self.fingerprint}

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(format(self.n, "x").encode()).hexdigest()


@dataclass(frozen=True)
class PrivateKey:
    """The signing half (CRT form); kept sealed on the server and destroyed when the vote closes."""

    public: PublicKey
    p: int
    q: int
    d: int

    def sign_blinded(self, blinded: int) -> int:
        """``blinded^d mod n``, by the Chinese remainder theorem."""
        if not 0 < blinded < self.public.n:
            raise VotingError("blinded", _("is not a number below the key's modulus"))
        dp, dq = self.d % (self.p - 1), self.d % (self.q - 1)
        mp, mq = pow(blinded, dp, self.p), pow(blinded, dq, self.q)
        h = (pow(self.q, -1, self.p) * (mp - mq)) % self.p
        return mq + h * self.q


def generate_key(bits: int = KEY_BITS) -> PrivateKey:
    """A fresh ballot key (one per vote)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(PUBLIC_EXPONENT, bits).private_numbers()
    public = PublicKey(numbers.public_numbers.n, numbers.public_numbers.e)
    return PrivateKey(public, numbers.p, numbers.q, numbers.d)


# --- Sealing: what the server keeps at rest is encrypted with a key derived from its secret ------


def _sealing_key(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"summit.council.seal.v1:{purpose}".encode(), hashlib.sha256).digest()


def seal(data: bytes, key: bytes, purpose: str) -> str:
    """``data`` encrypted (AES-256-GCM) under a key derived from ``key`` for ``purpose``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(key, purpose)).encrypt(nonce, data, purpose.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(text: str, key: bytes, purpose: str) -> bytes:
    """The data ``seal`` sealed; ``VotingError("secret")`` when the server secret changed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(text)
    try:
        return AESGCM(_sealing_key(key, purpose)).decrypt(raw[:12], raw[12:], purpose.encode())
    except InvalidTag:
        raise VotingError(
            "secret",
            _(
                "the server secret changed after this vote was set up, so its ballot key cannot "
                "be opened; restore SUMMIT_SECRET_KEY"
            ),
        ) from None


def seal_private(private: PrivateKey, key: bytes) -> str:
    blob = json.dumps(
        {"p": format(private.p, "x"), "q": format(private.q, "x"), "d": format(private.d, "x")}
    )
    return seal(blob.encode(), key, f"ballot-key:{private.public.fingerprint}")


def unseal_private(public: PublicKey, sealed: str, key: bytes) -> PrivateKey:
    data = json.loads(unseal(sealed, key, f"ballot-key:{public.fingerprint}"))
    return PrivateKey(public, int(data["p"], 16), int(data["q"], 16), int(data["d"], 16))


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def credential_of(secret: str) -> str:
    """The public name of the voting key with this secret."""
    return hashlib.sha256(f"summit.council.voting-key.v1:{secret}".encode()).hexdigest()


def credential_message(vote: int, credential: str) -> bytes:
    return f"summit.council.credential.v1:{vote}:{credential}".encode()


def full_domain_hash(key: PublicKey, vote: int, credential: str) -> int:
    """``H(m)``: MGF1-SHA-256 of the credential message to the modulus' length, mod ``n``."""
    return int.from_bytes(_mgf1(credential_message(vote, credential), key.size), "big") % key.n


def parse_hex64(text: str, name: str) -> str:
    """A voting key's secret or credential: 64 hexadecimal characters, lower case."""
    value = text.strip().lower()
    if len(value) != SECRET_HEX or any(ch not in "0123456789abcdef" for ch in value):
        raise VotingError(
            name, _("must be %(secret_hex)s hexadecimal characters") % {"secret_hex": SECRET_HEX}
        )
    return value


def parse_number(text: str, name: str, key: PublicKey) -> int:
    """A hexadecimal number below the key's modulus (a blinded value or a signature)."""
    clean = text.strip().lower()
    if not clean or len(clean) > 2 * key.size or any(c not in "0123456789abcdef" for c in clean):
        raise VotingError(name, _("must be a hexadecimal number"))
    number = int(clean, 16)
    if not 0 < number < key.n:
        raise VotingError(name, _("is not a number below the key's modulus"))
    return number


def verify(key: PublicKey, vote: int, credential: str, signature: int) -> bool:
    """Whether ``signature`` is the ballot key's signature of this vote's ``credential``."""
    return 0 < signature < key.n and pow(signature, key.e, key.n) == full_domain_hash(
        key, vote, credential
    )


def ballot_receipt(vote: int, credential: str, proposal: int, version: int) -> str:
    """The receipt of a key's ``version``-th ballot on a proposal: 80 bits, ``XXXX-XXXX-…``."""
    if not 1 <= version <= MAX_BALLOT_VERSIONS:
        raise VotingError(
            "version",
            _("must be 1 to %(max_ballot_versions)s")
            % {"max_ballot_versions": MAX_BALLOT_VERSIONS},
        )
    message = f"summit.council.receipt.v2:{vote}:{proposal}:{version}:{credential}".encode()
    number = int.from_bytes(hashlib.sha256(message).digest()[:10], "big")
    chars = []
    for _slot in range(RECEIPT_GROUPS * RECEIPT_GROUP_SIZE):
        number, digit = divmod(number, len(RECEIPT_ALPHABET))
        chars.append(RECEIPT_ALPHABET[digit])
    code = "".join(chars)
    return "-".join(
        code[i : i + RECEIPT_GROUP_SIZE] for i in range(0, len(code), RECEIPT_GROUP_SIZE)
    )


def ballot_commitment(receipt: str, proposal: int, version: int, choice: str) -> str:
    """What the audit log keeps of a ballot change while the vote is open: a hash that the
    published ballot list later opens (the receipt is secret until then, so the choice is too)."""
    return hashlib.sha256(f"{receipt}:{proposal}:{version}:{choice}".encode()).hexdigest()


# --- The member's side (the browser does the same; Python for tests, the benchmark, the demo) ---


@dataclass
class VotingKey:
    """A member's voting key in the making: the secret, the blinding factor and the signature."""

    key: PublicKey
    vote: int
    secret: str
    factor: int
    signature: int | None = None

    @classmethod
    def new(cls, key: PublicKey, vote: int) -> VotingKey:
        while True:
            factor = secrets.randbelow(key.n - 2) + 2
            if math.gcd(factor, key.n) == 1:
                return cls(key, vote, secrets.token_hex(SECRET_HEX // 2), factor)

    @property
    def credential(self) -> str:
        return credential_of(self.secret)

    @property
    def blinded(self) -> int:
        return (
            full_domain_hash(self.key, self.vote, self.credential)
            * pow(self.factor, self.key.e, self.key.n)
        ) % self.key.n

    def unblind(self, blind_signature: int) -> int:
        signature = (blind_signature * pow(self.factor, -1, self.key.n)) % self.key.n
        if not verify(self.key, self.vote, self.credential, signature):
            raise VotingError("signature", _("the server's signature does not fit this voting key"))
        self.signature = signature
        return signature


# --- The public recount ------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedBallot:
    """One ballot as published after the count (superseded ones too: anyone can recount)."""

    receipt: str
    credential: str
    proposal: int
    version: int
    choice: str
    counted: bool = True

    def as_json(self) -> dict[str, object]:
        return {
            "receipt": self.receipt,
            "credential": self.credential,
            "proposal": self.proposal,
            "version": self.version,
            "choice": self.choice,
            "counted": self.counted,
        }


def recount(
    key: PublicKey,
    vote: int,
    credentials: Mapping[str, int],
    ballots: Iterable[PublishedBallot],
) -> dict[int, dict[str, int]]:
    """Count the published ballots as anyone can: every key's signature must check out, every
    receipt must follow from its key, and only each key's latest version per proposal counts.

    ``credentials`` maps a credential to its signature. Returns, per proposal, the number of
    ``for`` / ``against`` / ``abstain``; raises ``VotingError`` at the first ballot that does not
    check out.
    """
    for credential, signature in credentials.items():
        if not verify(key, vote, credential, signature):
            raise VotingError(
                "credentials",
                _("voting key %(credential)s… does not check out")
                % {"credential": credential[:12]},
            )
    latest: dict[tuple[str, int], PublishedBallot] = {}
    for ballot in ballots:
        if ballot.credential not in credentials:
            raise VotingError(
                "ballots",
                _("ballot %(receipt)s has no published voting key") % {"receipt": ballot.receipt},
            )
        receipt = ballot_receipt(vote, ballot.credential, ballot.proposal, ballot.version)
        if receipt != ballot.receipt:
            raise VotingError(
                "ballots",
                _("receipt %(receipt)s does not follow from its key") % {"receipt": ballot.receipt},
            )
        slot = (ballot.credential, ballot.proposal)
        if slot not in latest or latest[slot].version < ballot.version:
            latest[slot] = ballot
    counts: dict[int, dict[str, int]] = {}
    for ballot in latest.values():
        choice: Choice = parse_choice(ballot.choice)
        per = counts.setdefault(ballot.proposal, {c.value: 0 for c in Choice})
        per[choice.value] += 1
    return counts
