"""Redaction measured on samples nobody on the project wrote: gitleaks' per-rule samples as its
own generators produce them (bench/suites/gitleaks_samples.py), the evasion forms of the
redaction review, and a benign corpus of real code and configuration. Full per-family tables:
bench/bench_redact_suites.py."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from claude_session.base.redact import redact, redact_data, redact_report
from helpers.redact_evasions import CASES
from helpers.redact_suites import GITLEAKS, load, score, survives

BENIGN = sorted((Path(__file__).parents[1] / "helpers" / "redact_benign").glob("*.txt"))
GITLEAKS_SET = load(GITLEAKS)


def _redacted(text: str) -> str:
    return redact_report(text).text


def test_gitleaks_positives_are_removed_at_least_95_percent() -> None:
    result = score(GITLEAKS_SET["positives"], _redacted)
    assert result.total > 5000
    missed = sorted({sample["rule"] for sample, _ in result.misses})
    assert result.recall >= 0.95, f"{result.recall:.3f}; rules with misses: {missed}"


def test_gitleaks_every_family_keeps_most_of_its_samples() -> None:
    result = score(GITLEAKS_SET["positives"], _redacted)
    weak = {f: (done, n) for f, (done, n) in result.families.items() if done < 0.4 * n}
    assert weak == {}


@pytest.mark.parametrize("group", sorted({group for group, _, _, _ in CASES}))
def test_evasion_forms_lose_their_secret(group: str) -> None:
    cases = [case for case in CASES if case[0] == group]
    missed = [name for _, name, text, secrets in cases if _survived(text, secrets)]
    assert len(missed) <= max(1, len(cases) // 10), missed


def test_evasion_forms_at_least_90_percent_overall() -> None:
    missed = [(g, name) for g, name, text, secrets in CASES if _survived(text, secrets)]
    assert len(missed) <= 0.1 * len(CASES), missed


def _survived(text: str, secrets: list[str]) -> bool:
    out = redact(text)[0]
    return any(survives(secret, out) for secret in secrets)


@pytest.mark.parametrize("path", BENIGN, ids=lambda p: p.name)
def test_benign_corpus_file_passes_unchanged(path: Path) -> None:
    text = path.read_text()
    out = redact(text)[0]
    changed = [
        line for line, new in zip(text.splitlines(), out.splitlines(), strict=False) if line != new
    ]
    assert out == text, changed[:5]


def test_benign_corpus_is_real_and_moderate() -> None:
    size = sum(path.stat().st_size for path in BENIGN)
    assert len(BENIGN) >= 20 and 1_000_000 < size < 4_000_000


@pytest.mark.parametrize(
    "code",
    [
        "def f(pwd=None):",
        "    def __init__(self, address, authkey=None):",
        "typ, dat = self._simple_command('LOGIN', self.user, self.password.encode('ascii'))",
        "        fds = [listener.fileno(), alive_r]",
        "permissions:\n  contents: read\n  id-token: 'write'",
        'GEM_HOST_API_KEY: "Bearer ${{secrets.GITHUB_TOKEN}}"',
        "<dependency>io.jsonwebtoken:jjwt-jackson-0.11.2</dependency>",
        "implementation 'io.jsonwebtoken:jjwt-jackson:0.11.2'",
        'headers = {"Authorization": f"Bearer {token}"}',
        "password = getpass.getpass()",
        "token_type: bearer\nmax_tokens: 4096",
        "DATA_API_KEY = '.data-api'",
        'claude-api-key: "github-actions"',
        "url = 'https://pydantic:${PPPR_TOKEN}@pypi.example.com/'",
        "PKCS7_ISSUER_AND_SERIAL = pkcs7_issuer_and_serial_st",
        "    SERVER_AUTH = '1.3.6.1.5.5.7.3.1'",
        "capabilities = 'LOGINDISABLED AUTH=CRAM-MD5'",
        "git push -u origin main && docker run -u 1000:1000 img",
    ],
)
def test_code_that_only_names_a_credential_is_not_mangled(code: str) -> None:
    assert redact(code) == (code, [])


def test_a_secret_found_in_one_field_of_a_record_goes_from_every_field() -> None:
    secret = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"
    record = {
        "summary": f"set API_SECRET={secret} for ci",
        "next_steps": [f"check that {secret} was rotated"],
        "notes": {"shell": f"echo {secret}"},
    }
    out = redact_data(record)
    assert secret not in str(out)
    assert out["summary"] == "set API_SECRET=[REDACTED:api-key] for ci"


def test_a_secret_found_once_in_a_text_goes_wherever_it_is_echoed() -> None:
    secret = "8ae31cacf141669ddfb5da"
    text = f"DB_PASSWORD={secret}\n$ psql -W {secret}\n{secret}"
    out = redact(text)[0]
    assert secret not in out and out.count("[REDACTED:password]") == 3


def test_gitleaks_families_with_no_rule_before_are_caught() -> None:
    by_family: dict[str, list[bool]] = defaultdict(list)
    for sample in GITLEAKS_SET["positives"]:
        if (
            sample["family"] in ("nuget", "sourcegraph", "facebook", "curl", "jwt")
            and sample["secrets"]
        ):
            out = _redacted(sample["text"])
            by_family[sample["family"]].append(not any(survives(s, out) for s in sample["secrets"]))
    assert {f: sum(v) / len(v) >= 0.75 for f, v in by_family.items()} == dict.fromkeys(
        by_family, True
    )


def test_secrets_around_image_data_are_found_at_their_place() -> None:
    secret = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"
    image = '{"type": "base64", "media_type": "image/png", "data": "' + "iVBORw0KGgo" * 50 + '"}'
    text = f"before {secret} {image} zero\u200bwidth API_SECRET={secret[4:]} after"
    out = redact(text)[0]
    assert secret not in out and secret[4:] not in out
    assert image in out and out.endswith(" after") and "zero\u200bwidth" in out
