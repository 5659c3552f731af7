from __future__ import annotations

import random
import string
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_session.base.redact import (
    contains_secret,
    describe,
    find_secrets,
    redact,
    redact_data,
    redact_data_report,
    redact_report,
    redacted_kinds,
    rule_kinds,
)
from helpers.redact_samples import AWS_ID as SAMPLE_AWS_ID
from helpers.redact_samples import AWS_SECRET as SAMPLE_AWS_SECRET
from helpers.redact_samples import GH as SAMPLE_GH
from helpers.redact_samples import JWT as SAMPLE_JWT
from helpers.redact_samples import NEGATIVE, POSITIVE, adversarial

BENIGN = Path(__file__).parents[1] / "helpers" / "redact_benign.txt"

# Obviously fake values in the real formats, assembled so no scanner flags this file.
GH = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)

PROVIDER_CASES = [
    ("aws-access-key", f"export AWS_ACCESS_KEY_ID={AWS_ID}\n", AWS_ID),
    ("aws-secret-key", f"[default]\naws_secret_access_key = {AWS_SECRET}\n", AWS_SECRET),
    ("github-token", f"git clone with GH_TOKEN {GH} then push", GH),
    (
        "github-token",
        "pat github_pat_11ABCDEFG0123456789_abcdefghijKLMNOPQRSTuvwxyz0123 ok",
        "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOPQRSTuvwxyz0123",
    ),
    ("gitlab-token", "CI_JOB: glpat-" + "xY9" * 7 + " used", "glpat-" + "xY9" * 7),
    ("slack-token", "SLACK_BOT=xoxb-" + "1234567890-abcdefABCDEF", "xoxb-1234567890-abcdefABCDEF"),
    (
        "stripe-key",
        "stripe.api_key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc'",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "openai-key",
        "OPENAI_API_KEY=sk-proj-" + "Ab3dE_fG7hIj-kL9mN0pQr" * 2,
        "sk-proj-" + "Ab3dE_fG7hIj-kL9mN0pQr" * 2,
    ),
    ("openai-key", "legacy sk-" + "T3BlbkFJ" * 6 + " key", "sk-" + "T3BlbkFJ" * 6),
    (
        "anthropic-key",
        'client = Anthropic(api_key="sk-ant-api03-' + "Zx8_Yw7-" * 8 + '")',
        "sk-ant-api03-" + "Zx8_Yw7-" * 8,
    ),
    (
        "google-api-key",
        "maps?key=AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY" + "&x=1",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    ),
    (
        "1password-token",
        "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ" + "zaWduSW5BZGRyZXNz" * 4,
        "ops_eyJ" + "zaWduSW5BZGRyZXNz" * 4,
    ),
    ("jwt", f"cookie session={JWT}; Path=/", JWT),
    (
        "npm-token",
        "//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5" * 3 + "F6g7H8",
        "npm_" + "a1B2c3D4e5" * 3 + "F6g7H8",
    ),
    ("private-key", f"key file:\n{PRIVATE_KEY}\nthe end", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"),
    (
        "bearer-token",
        'curl -H "Authorization: Bearer abc.DEF-ghi_jkl" https://api.x',
        "abc.DEF-ghi_jkl",
    ),
    ("basic-auth", "Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
]


@pytest.mark.parametrize(("kind", "text", "secret"), PROVIDER_CASES)
def test_each_provider_secret_is_redacted_and_its_kind_reported(
    kind: str, text: str, secret: str
) -> None:
    out, kinds = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert kind in kinds
    assert contains_secret(text)


def test_text_around_a_secret_is_kept() -> None:
    out, _ = redact(f"before {GH} after")
    assert out == "before [REDACTED:github-token] after"


def test_private_key_block_goes_whole_and_text_after_it_stays() -> None:
    out, kinds = redact(f"{PRIVATE_KEY}\nnext line")
    assert out == "[REDACTED:private-key]\nnext line"
    assert kinds == ["private-key"]


def test_private_key_without_end_line_still_loses_its_body() -> None:
    truncated = PRIVATE_KEY.rsplit("\n", 1)[0]
    out, kinds = redact(truncated + "\n\nand some prose")
    assert "MIIE" not in out and "VTLw7" not in out
    assert out.endswith("and some prose") and kinds == ["private-key"]


def test_private_key_in_json_string_with_escaped_newlines() -> None:
    escaped = PRIVATE_KEY.replace("\n", "\\n")
    out, _ = redact(f'{{"private_key": "{escaped}\\n", "client_email": "x@y.z"}}')
    assert "MIIE" not in out and '"client_email": "x@y.z"' in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgres://admin:hunter2@db.example.com:5432/app",
            "postgres://[REDACTED:url-credentials]@db.example.com:5432/app",
        ),
        (
            "git push https://x-access-token:s3cr3t@github.com/o/r.git",
            "git push https://[REDACTED:url-credentials]@github.com/o/r.git",
        ),
        (f"https://{GH}@github.com/o/r", "https://[REDACTED:github-token]@github.com/o/r"),
        ("redis://:p4ssw0rd@cache:6379", "redis://[REDACTED:url-credentials]@cache:6379"),
    ],
)
def test_url_credentials_are_redacted_and_host_kept(text: str, expected: str) -> None:
    out, kinds = redact(text)
    assert out == expected
    assert len(kinds) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2", "password=[REDACTED:password]"),
        ('DB_PASSWORD="s3cr3t!"', 'DB_PASSWORD="[REDACTED:password]"'),
        ("  secret: Zk8#pq!2", "  secret: [REDACTED:secret]"),
        ('{"api_key": "AbCdEf123456"}', '{"api_key": "[REDACTED:api-key]"}'),
        ("token = 'f00ba4deadbeef'", "token = '[REDACTED:token]'"),
        ("clientSecret: x9y8z7w6", "clientSecret: [REDACTED:secret]"),
        ("SECRET_KEY = 'django-insecure-abc123'", "SECRET_KEY = '[REDACTED:secret]'"),
        ("(password: hunter2).", "(password: [REDACTED:password])."),
    ],
)
def test_generic_assignment_keeps_key_and_redacts_value(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "token = get_token()",
        "the token expired, so the password field was shown again",
        "Enter your password: it must have 12 characters",
        'token = os.environ["GITHUB_TOKEN"]',
        "api_key: Optional[str] = None",
        "password = self.password",
        "secret: str",
        "token=${{ secrets.GITHUB_TOKEN }}",
        "password: ${DB_PASSWORD}",
        "api_key = API_KEY",
        "token: expired",
        "max_tokens=4096, tokens_input: 12345, token_count = 17",
        "tokenizer = load_tokenizer()",
        "commit 3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f and abc1234",
        "session 123e4567-e89b-12d3-a456-426614174000",
        "Bearer authentication is used by the API",
        "scikit-learn and risk-abcdefghijklmnopqrstuvwxyz0123 are words",
        "https://user@github.com/o/r and git@github.com:o/r.git",
        "secret_file=/run/secrets/db",
        "token_url: https://auth.example.com/token",
        "password: '***'",
        "def check(password: str, token: str | None = None) -> bool:",
        "if token == expected_token:",
    ],
)
def test_ordinary_prose_and_code_are_left_alone(text: str) -> None:
    assert redact(text) == (text, [])
    assert not contains_secret(text)


def test_kinds_are_sorted_and_unique() -> None:
    _, kinds = redact(f"{GH} {AWS_ID} {GH} password=hunter2")
    assert kinds == ["aws-access-key", "github-token", "password"]


def test_redacted_kinds_reads_markers_back() -> None:
    out, kinds = redact(f"{GH} and {JWT}")
    assert redacted_kinds(out) == kinds == ["github-token", "jwt"]


# --- properties ---------------------------------------------------------------------------

_TOKEN_CHARS = string.ascii_letters + string.digits


def _tail(draw: st.DrawFn, size: int, alphabet: str = _TOKEN_CHARS) -> str:
    # At least one digit and one letter: a real key is never a dictionary word.
    body = draw(st.text(alphabet=alphabet, min_size=size - 2, max_size=size - 2))
    return "a7" + body


@st.composite
def generated_secrets(draw: st.DrawFn) -> str:
    makers = [
        lambda: "ghp_" + _tail(draw, 36),
        lambda: "github_pat_" + _tail(draw, 40, _TOKEN_CHARS + "_"),
        lambda: "glpat-" + _tail(draw, 20, _TOKEN_CHARS + "_-"),
        lambda: "xoxb-" + _tail(draw, 24, _TOKEN_CHARS + "-"),
        lambda: "sk_live_" + _tail(draw, 24),
        lambda: "sk-proj-" + _tail(draw, 40, _TOKEN_CHARS + "_-"),
        lambda: "sk-ant-api03-" + _tail(draw, 40, _TOKEN_CHARS + "_-"),
        lambda: "AIza" + _tail(draw, 35, _TOKEN_CHARS + "_-"),
        lambda: "ops_eyJ" + _tail(draw, 60),
        lambda: "npm_" + _tail(draw, 36),
        lambda: (
            "AKIA" + draw(st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16))
        ),
        lambda: "eyJ" + _tail(draw, 10) + ".eyJ" + _tail(draw, 12) + "." + _tail(draw, 20),
    ]
    return makers[draw(st.integers(0, len(makers) - 1))]()


@settings(max_examples=300)
@given(st.text())
def test_redact_never_raises_and_is_idempotent(text: str) -> None:
    once, _ = redact(text)
    assert redact(once)[0] == once


@settings(max_examples=200)
@given(st.text(alphabet=string.printable + "éü中🙂", max_size=300))
def test_redact_is_idempotent_on_code_like_text(text: str) -> None:
    once, _ = redact(text)
    assert redact(once)[0] == once


@settings(max_examples=300)
@given(
    st.lists(st.text(max_size=40), min_size=1, max_size=5),
    st.lists(generated_secrets(), min_size=1, max_size=4),
    st.sampled_from([" ", "\n", "\t", " = ", ": ", '"', "(", ", "]),
)
def test_generated_secrets_in_random_text_never_survive(
    chunks: list[str], secrets: list[str], separator: str
) -> None:
    pieces = []
    for i, chunk in enumerate(chunks):
        pieces.append(chunk)
        if i < len(secrets):
            pieces += [separator, secrets[i], separator]
    pieces += [separator + s + separator for s in secrets[len(chunks) :]]
    out, kinds = redact("".join(pieces))
    for secret in secrets:
        assert secret not in out
    assert kinds


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "".join(random.Random(1).choices(string.printable, k=n)),
        lambda n: "eyJ" * (n // 3),
        lambda n: "eyJa.eyJb." * (n // 10),
        lambda n: "password=" * (n // 9),
        lambda n: "-----BEGIN PRIVATE KEY-----\n" * (n // 28),
        lambda n: "https://a:" * (n // 10),
        lambda n: ("x" * 30 + "@") * (n // 31),
        lambda n: "Authorization: Bearer " * (n // 22),
    ],
)
def test_one_megabyte_input_completes(make: object) -> None:
    text = make(1_000_000)  # type: ignore[operator]
    out, _ = redact(text)
    assert isinstance(out, str)


# --- breadth: every rule, a positive and a negative sample ------------------------------------


def test_every_kind_has_a_positive_and_a_negative_sample() -> None:
    kinds = set(rule_kinds())
    assert {kind for kind, _, _ in POSITIVE} == kinds
    assert {kind for kind, _ in NEGATIVE} == kinds


@pytest.mark.parametrize(("kind", "text", "secret"), POSITIVE, ids=[p[0] for p in POSITIVE])
def test_each_sample_secret_is_removed_and_its_kind_reported(
    kind: str, text: str, secret: str
) -> None:
    result = redact_report(text)
    assert secret not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert result.kinds[kind] >= 1
    assert kind in find_secrets(text)
    assert redact(result.text)[0] == result.text


@pytest.mark.parametrize(("kind", "text"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_near_misses_of_each_kind_pass_unchanged(kind: str, text: str) -> None:
    assert redact(text) == (text, []), kind
    assert find_secrets(text) == []


# --- quiet: a coding session's benign strings pass unchanged -------------------------------


def _benign_lines() -> list[str]:
    lines = BENIGN.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("## ")]


def test_benign_corpus_passes_unchanged() -> None:
    lines = _benign_lines()
    assert len(lines) >= 200
    alarms = [(line, redact(line)[1]) for line in lines if redact(line)[0] != line]
    assert alarms == []
    whole = "\n".join(lines)
    assert redact(whole) == (whole, [])


# --- the red team's rows ---------------------------------------------------------------------


@pytest.mark.parametrize("sep", ["-", "_"])
def test_X2_aws_key_id_followed_by_dash_or_underscore_is_redacted(sep: str) -> None:
    branch = f"feat/{SAMPLE_AWS_ID}{sep}{SAMPLE_GH}"
    out, kinds = redact(branch)
    assert SAMPLE_AWS_ID not in out and SAMPLE_GH not in out
    assert out == f"feat/[REDACTED:aws-access-key]{sep}[REDACTED:github-token]"
    assert kinds == ["aws-access-key", "github-token"]


def test_X4_secrets_used_as_dict_keys_are_redacted() -> None:
    results = {SAMPLE_AWS_ID: "key-as-key", SAMPLE_JWT: 1, "nested": [{SAMPLE_GH: SAMPLE_GH}]}
    value, kinds = redact_data_report(results)
    text = repr(value)
    for secret in (SAMPLE_AWS_ID, SAMPLE_JWT, SAMPLE_GH):
        assert secret not in text
    assert value["[REDACTED:aws-access-key]"] == "key-as-key"
    assert value["[REDACTED:jwt]"] == 1
    assert kinds == Counter({"aws-access-key": 1, "jwt": 1, "github-token": 2})


def test_X4_two_keys_redacted_alike_keep_both_entries() -> None:
    other = "ghp_" + "Z9y8X7w6V5" * 3 + "u4T3s2"
    value = redact_data({SAMPLE_GH: 1, other: 2, 3: "three"})
    assert value == {
        "[REDACTED:github-token]": 1,
        "[REDACTED:github-token] (2)": 2,
        3: "three",
    }


@pytest.mark.parametrize(
    "text",
    [
        f"key id {SAMPLE_AWS_ID} secret {SAMPLE_AWS_SECRET}",
        f"{SAMPLE_AWS_ID}\n{SAMPLE_AWS_SECRET}\n",
        f"Access key ID,Secret access key\n{SAMPLE_AWS_ID},{SAMPLE_AWS_SECRET}\n",
        f"{SAMPLE_AWS_SECRET} belongs to {SAMPLE_AWS_ID}",
    ],
)
def test_X5_bare_aws_secret_next_to_its_key_id_is_redacted(text: str) -> None:
    out, kinds = redact(text)
    assert SAMPLE_AWS_SECRET not in out and SAMPLE_AWS_ID not in out
    assert kinds == ["aws-access-key", "aws-secret-key"]


def test_X5_a_40_character_string_far_from_any_key_id_stays() -> None:
    text = f"{SAMPLE_AWS_ID} " + "word " * 200 + SAMPLE_AWS_SECRET
    out, kinds = redact(text)
    assert SAMPLE_AWS_SECRET in out and kinds == ["aws-access-key"]


def test_X5_a_git_hash_next_to_a_key_id_stays() -> None:
    sha = "3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f"
    out, _ = redact(f"{SAMPLE_AWS_ID} added in {sha}")
    assert sha in out


# --- the report API -------------------------------------------------------------------------


def test_redact_report_counts_each_secret_by_kind() -> None:
    result = redact_report(f"{SAMPLE_GH} and {SAMPLE_GH} and password=hunter2x")
    assert result.kinds == Counter({"github-token": 2, "password": 1})
    assert result.text == (
        "[REDACTED:github-token] and [REDACTED:github-token] and password=[REDACTED:password]"
    )
    assert redact_report("nothing here") == ("nothing here", Counter())


def test_describe_tells_how_many_of_which_kind() -> None:
    assert describe(Counter({"github-token": 2, "password": 1})) == (
        "3 secrets removed (2 github-token, 1 password)"
    )
    assert describe(Counter({"jwt": 1})) == "1 secret removed (1 jwt)"
    assert describe(Counter()) == ""


def test_find_secrets_names_the_kinds_in_a_commit_message() -> None:
    message = f"Fix deploy\n\nused {SAMPLE_GH} and postgres://u:pw1234@db/x"
    assert find_secrets(message) == ["github-token", "url-credentials"]
    assert find_secrets("Fix deploy: rotate the token in CI") == []


def test_redact_data_keeps_shape_and_non_strings() -> None:
    value = redact_data({"a": [1, 2.5, None, True, ("x", SAMPLE_GH)]})
    assert value == {"a": [1, 2.5, None, True, ["x", "[REDACTED:github-token]"]]}


def test_text_with_a_character_that_lower_cases_longer_keeps_offsets() -> None:
    text = "\u0130stanbul password=hunter2x \u0130"
    assert redact(text)[0] == "\u0130stanbul password=[REDACTED:password] \u0130"


# --- no rule backtracks badly ----------------------------------------------------------------

_ADVERSARIAL_SIZE = 100_000
_ONE_PER_KIND = list({kind: (kind, secret) for kind, _, secret in POSITIVE}.values())


@pytest.mark.parametrize(("kind", "secret"), _ONE_PER_KIND, ids=[k for k, _ in _ONE_PER_KIND])
def test_adversarial_input_for_each_rule_completes(kind: str, secret: str) -> None:
    # The time ceiling lives in bench/bench_redact.py (it prints each rule's worst case);
    # here every input must simply finish.
    for name, text in adversarial(secret, _ADVERSARIAL_SIZE).items():
        out, _ = redact(text)
        assert isinstance(out, str), (kind, name)


@pytest.mark.parametrize(
    "line",
    [
        "new secret is {key} for ci",
        "rotated: secret key {key}",
        "The Secret ({key}) goes to CI",
        "secret -> {key}",
    ],
)
def test_a_bare_aws_secret_key_after_the_word_secret_is_removed(line: str) -> None:
    """X5 (redteam-2): a 40-character AWS secret key alone in prose, with no key id and no
    ``aws_secret_access_key=`` label, right after the word "secret"."""
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8m3Ld0Tw"
    text, kinds = redact(line.format(key=key))
    assert key not in text and kinds == ["aws-secret-key"]


@pytest.mark.parametrize(
    "line",
    [
        "secret rotation landed in commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "the secret store lives at /usr/lib/python3/dist-packages/keyring/backends.py",
        "secret sauce: TheQuickBrownFoxJumpsOverTheLazyDogAgain",
    ],
)
def test_forty_characters_after_the_word_secret_that_are_no_key_stay(line: str) -> None:
    """X5's rule takes only a token with upper and lower case and a digit: a commit hash, a
    path or a run of words after "secret" is left alone."""
    assert redact(line) == (line, [])


_TAIL = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznBa1b2"  # 36 characters, as a GitHub token has


@pytest.mark.parametrize(
    "text",
    [
        f"the token is ghp_\n{_TAIL}\n",  # a terminal or an editor broke the line (N22)
        f"ghp_\r\n{_TAIL}",
        '{"text": "ghp_\\n' + _TAIL + '"}',  # the same in raw JSON text
        f"glpat-\n{_TAIL[:20]} was the key",
        f"xoxb-\n123456789012-{_TAIL[:24]}",
        f"token ghp_{_TAIL[:16]}\n{_TAIL[16:]}\n",  # cut in its middle
        '{"text": "ghp_' + _TAIL[:16] + "\\n" + _TAIL[16:] + '"}',
        f"sk-ant-api03-{_TAIL[:10]}\r\n{_TAIL}",
    ],
)
def test_a_token_broken_by_a_line_break_is_removed_whole(text: str) -> None:
    out = redact(text)[0]
    assert "[REDACTED:" in out and _TAIL[:16] not in out and _TAIL[16:] not in out, out


def test_a_whole_token_at_a_line_end_leaves_the_next_line_alone() -> None:
    text = f"GITHUB_TOKEN=ghp_{_TAIL}\nOTHER_SETTING=1\nghp_abc\nAnotherLine\n"
    assert redact(text)[0] == (
        "GITHUB_TOKEN=[REDACTED:github-token]\nOTHER_SETTING=1\nghp_abc\nAnotherLine\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "passw\u043erd=8ae31cacf141669ddfb5da",  # Cyrillic о
        "p\u0430ssword: 8ae31cacf141669ddfb5da",  # Cyrillic а
        f"api_k\u0435y={_TAIL}",  # Cyrillic е
        f"t\u03bfken={_TAIL}",  # Greek ο
        "\u0410KIAZ3XQ7K2M4N5P6R7S",  # Cyrillic А in an AWS key id
        f"\u0455ecret={_TAIL}",  # Cyrillic ѕ
    ],
)
def test_look_alike_letters_do_not_hide_a_name_or_a_token(text: str) -> None:
    out = redact(text)[0]
    assert "[REDACTED:" in out and "8ae31cacf141669ddfb5da" not in out and _TAIL not in out, out
    assert "Z3XQ7K2M4N5P6R7S" not in out


@pytest.mark.parametrize(
    "text",
    [
        "Пароль должен быть длинным; секрет хранится в хранилище, токен истекает через час.",
        "Ο κωδικός πρόσβασης είναι μυστικός· το κλειδί API αλλάζει κάθε μήνα.",
        "ВАЖНО: КОРОТКО ОБ ЭТОМ ТЕКСТЕ, АКСЕССУАРЫ И ОХРАНА",
        "see ghp_\nthe next line of the text\n",
    ],
)
def test_cyrillic_and_greek_prose_and_a_prefix_at_a_line_end_pass_unchanged(text: str) -> None:
    assert redact(text)[0] == text
