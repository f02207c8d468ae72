"""Keep secrets out of everything the tool writes.

SDK error messages can quote request URLs (pre-signed S3 URLs, Azure SAS
tokens), tag values can hold a pasted SAS URL, and a traceback can hold a
token. Every string that reaches an output, a log line or the store passes
through one `Redactor` (the collector applies it to resources, gaps and notes;
the CLI to its error lines), which removes:

- signature, token and credential parameters of URLs and connection strings
  (`sig=`, `X-Amz-Signature=`, `X-Goog-Credential=`, `AccountKey=`, ...),
- the password (or token) in a URL's userinfo (`scheme://user:password@host`), also when
  the password holds unencoded `@`, `:` or `#` (the last `@` before the host ends it),
- bearer tokens / JWTs, AWS access key ids, PEM private keys,
- the literal values of the credential variables in the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "REDACTED"

#: URL query / connection-string parameters that carry or sign a credential.
_SECRET_PARAMS = (
    r"sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|awsaccesskeyid|googleaccessid|access_token|id_token|refresh_token|client_secret|token|skoid|sktid"
    r"|accountkey|sharedaccesskey|sharedaccesssignature|password|pwd"
)
_PARAM = re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_SECRET_PARAMS})=([^&;\s\"'<>\\]+)")
_BEARER = re.compile(r"(?i)\b(bearer|sharedkey|aws4-hmac-sha256)\s+[^\s\"'<>\\]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b")
_KEY_ID_PREFIX = re.compile(r"A(KI|SI|GP|ID|RO)A")  # cheap pre-check: most strings hold no key id
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)

#: `scheme://` and the authority after it (up to a path, query, fragment, space or quote).
_URL_AUTHORITY = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s\"'<>/?]*)")


_MIN_TOKEN_LEN = 16


def _mask_userinfo(m: re.Match[str]) -> str:
    scheme, authority = m.group(1), m.group(2)
    at = authority.rfind("@")  # a password may hold '@' unencoded: the host follows the last one
    if at < 0:
        return m.group(0)
    user, colon, _ = authority[:at].partition(":")
    if not colon and len(user) < _MIN_TOKEN_LEN:
        return m.group(0)  # a plain user name (postgresql://audit@db): not a secret
    # No colon but long: the userinfo is a token (https://TOKEN@host).
    kept = f"{user}:{MASK}" if colon else MASK
    return f"{scheme}{kept}{authority[at:]}"


def redact_userinfo(text: str) -> str:
    """Every URL's userinfo secret masked; cheap when the text holds no URL."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_AUTHORITY.sub(_mask_userinfo, text)


#: Environment variables whose values are credentials (matched on the name).
_SECRET_ENV = re.compile(r"(?i)(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|SAS|_KEY$|ACCESS_KEY)")
#: ...except those that name a file or directory holding them (the path is not the secret).
_PATH_ENV = re.compile(r"(?i)(_FILE|_PATH|_DIR|_HOME)$|^GOOGLE_APPLICATION_CREDENTIALS$")
_MIN_SECRET_LEN = 8
#: Distinct strings remembered per Redactor. A plan repeats a few thousand (types, modules, tag
#: values); a live estate's names are mostly unique, and remembering 100,000 of them held ~8 MB
#: that grew with the estate (issue 20): the memo starts afresh when full.
_MEMO_MAX = 8_192


class Redactor:
    """A redaction pass with the environment's secret values captured once (per scan)."""

    def __init__(self, secrets: set[str] | None = None) -> None:
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted(s for s in (secrets or set()) if len(s) >= _MIN_SECRET_LEN)
        self._secrets.sort(key=len, reverse=True)
        self._memo: dict[str, str] = {}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        env = os.environ if environ is None else environ
        return cls({v for k, v in env.items() if v and _SECRET_ENV.search(k) and not _PATH_ENV.search(k)})

    def text(self, value: str) -> str:
        if not value:
            return value
        # A plan or an estate repeats the same strings (types, modules, tag values)
        # thousands of times: each distinct one is redacted once.
        hit = self._memo.get(value)
        if hit is None:
            hit = self._text(value)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[value] = hit
        return hit

    def _text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if "@" in value:
            value = redact_userinfo(value)
        if "=" in value:
            value = _PARAM.sub(lambda m: f"{m.group(1)}={MASK}", value)
        if "eyJ" in value:
            value = _JWT.sub(MASK, value)
        if " " in value:
            value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        if "-----BEGIN" in value:
            value = _PEM.sub(MASK, value)
        if len(value) >= 20 and _KEY_ID_PREFIX.search(value):
            value = _AWS_KEY_ID.sub(MASK, value)
        return value

    def value(self, value: Any) -> Any:
        """Strings anywhere inside lists and dicts (resource attributes)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return self.mapping(value)
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value

    def mapping(self, value: Mapping[Any, Any]) -> dict[Any, Any]:
        """`value` for a dict (every resource's tags and attributes), the memo consulted inline."""
        get, text = self._memo.get, self.text
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if type(v) is str:
                hit = get(v)
                out[k] = text(v) if hit is None else hit
            else:
                out[k] = self.value(v)
        return out


def redact(text: str) -> str:
    """One-off redaction (error lines); scans reuse one `Redactor`."""
    return Redactor.from_environ().text(text)
