"""The provider token table: one rule per kind of token a provider issues (``ghp_…``,
``glpat-…``, ``AKIA…``), each with the anchor ``anchors`` groups it by. New providers go here.
Standard library only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from claude_session.base.redact.shapes import base64_jwt, looks_random, mixed_case, openai_like

_ALNUM = "A-Za-z0-9"
_WORD_DASH = "A-Za-z0-9_-"
_B64 = "A-Za-z0-9+/="


@dataclass(frozen=True)
class Token:
    """A token: one of ``heads`` (literal texts, or the fixed-width regex ``head_re``), then
    ``anchor``, then ``tail``. No ``before`` character precedes it, no ``end`` character
    follows it, and ``accept`` (when given) approves the whole token."""

    kind: str
    anchor: str
    heads: tuple[str, ...]
    tail: str
    before: str = _ALNUM
    end: str = _ALNUM
    accept: Callable[[str], bool] | None = None
    head_re: str = ""


def _tok(
    kind: str,
    heads: str,
    anchor: str,
    tail: str,
    *,
    before: str | None = None,
    end: str = _ALNUM,
    accept: Callable[[str], bool] | None = None,
    head_re: str = "",
) -> Token:
    """``heads`` is a space-separated list of literal prefixes ("" for none). By default a
    token may not start inside a run of the characters that may not follow it: a run of
    glued tokens is then tried once, not once per token in it."""
    if before is None:  # "=" ends base64 but also starts a value: TOKEN=ops_...
        before = (end or _ALNUM).replace("=", "")
    return Token(kind, anchor, tuple(heads.split()), tail, before, end, accept, head_re)


TOKENS: tuple[Token, ...] = (
    # ---- anchored on "_"
    _tok("github-token", "ghp gho ghu ghs ghr", "_", r"[A-Za-z0-9]{36,255}"),
    _tok("github-token", "github", "_", r"pat_[A-Za-z0-9_]{22,255}", end="A-Za-z0-9_"),
    _tok("npm-token", "npm", "_", r"[A-Za-z0-9]{36}"),
    _tok("1password-token", "ops", "_", r"eyJ[A-Za-z0-9+/]{40,8192}={0,3}", end=_B64),
    _tok("stripe-key", "sk rk", "_", r"(?:live|test|prod)_[A-Za-z0-9]{10,255}"),
    _tok("stripe-key", "whsec", "_", r"[A-Za-z0-9+/]{24,255}={0,2}", end=_B64),
    _tok("huggingface-token", "hf", "_", r"[A-Za-z]{34}"),
    _tok("huggingface-token", "api", "_", r"org_[A-Za-z]{34}"),
    _tok("digitalocean-token", "dop doo dor", "_", r"v1_[a-f0-9]{64}"),
    _tok("shopify-token", "shpat shpca shppa shpss", "_", r"[a-fA-F0-9]{32}"),
    _tok("linear-key", "lin", "_", r"(?:api|oauth)_[A-Za-z0-9]{40}"),
    _tok("rubygems-token", "rubygems", "_", r"[a-f0-9]{48}"),
    _tok("docker-token", "dckr", "_", r"(?:pat|oat)_[A-Za-z0-9_-]{27,255}", end=_WORD_DASH),
    _tok("grafana-token", "glc", "_", r"[A-Za-z0-9+/]{32,400}={0,3}", end=_B64),
    _tok("grafana-token", "glsa", "_", r"[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    _tok(
        "sentry-token",
        "sntrys sntryu",
        "_",
        r"(?:[a-f0-9]{64}|eyJ[A-Za-z0-9+/=_]{40,1024})",
        end="A-Za-z0-9+/=_",
    ),
    _tok("groq-key", "gsk", "_", r"[A-Za-z0-9]{52}"),
    _tok("replicate-token", "r8", "_", r"[A-Za-z0-9]{37}"),
    _tok("supabase-token", "sbp", "_", r"(?:oauth_)?[a-f0-9]{40}"),
    _tok("netlify-token", "nfp", "_", r"[A-Za-z0-9]{36,40}"),
    _tok("notion-token", "ntn", "_", r"[0-9]{11}[A-Za-z0-9]{35}"),
    _tok("notion-token", "secret", "_", r"[A-Za-z0-9]{43}", accept=mixed_case),
    _tok("vercel-token", "vcp vci vck vcr vca", "_", r"[A-Za-z0-9]{24,64}", accept=mixed_case),
    _tok(
        "planetscale-token",
        "pscale",
        "_",
        r"(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}",
        end="A-Za-z0-9=._-",
    ),
    _tok("fly-token", "fo1", "_", r"[A-Za-z0-9_-]{43}", end=_WORD_DASH),
    _tok("sourcegraph-token", "sgp", "_", r"(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}"),
    _tok("langsmith-key", "lsv2", "_", r"(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"),
    _tok("shippo-token", "shippo", "_", r"(?:live|test)_[a-fA-F0-9]{40}"),
    _tok("sonar-token", "squ sqp sqa sqco", "_", r"[A-Za-z0-9]{40,64}"),
    _tok(
        "braintree-token",
        "access",
        "_",
        r"token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}",
    ),
    # ---- anchored on "-"
    _tok(
        "gitlab-token",
        "glpat glcbt glimt gloas gldt glrt glft glsoat glffct",
        "-",
        r"[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?",
        before=_WORD_DASH,
        end=_WORD_DASH,
    ),
    _tok(
        "gitlab-token", "glagent", "-", r"[A-Za-z0-9_-]{50,300}", before=_WORD_DASH, end=_WORD_DASH
    ),
    _tok("gitlab-token", "glptt", "-", r"[0-9a-f]{40}"),
    _tok(
        "slack-token",
        "xoxa xoxb xoxp xoxo xoxs xoxe xoxr",
        "-",
        r"[A-Za-z0-9-]{10,255}",
        before=_WORD_DASH,
        end="A-Za-z0-9-",
        accept=looks_random,
    ),
    _tok("slack-token", "xapp", "-", r"[0-9]-[A-Za-z0-9-]{10,255}", end="A-Za-z0-9-"),
    _tok(
        "anthropic-key", "sk", "-", r"ant-[A-Za-z0-9_-]{20,300}", before=_WORD_DASH, end=_WORD_DASH
    ),
    _tok("openrouter-key", "sk", "-", r"or-v1-[a-f0-9]{64}", before=_WORD_DASH),
    _tok(
        "openai-key",
        "sk",
        "-",
        r"[A-Za-z0-9_-]{20,300}",
        before=_WORD_DASH,
        end=_WORD_DASH,
        accept=openai_like,
    ),
    _tok("pypi-token", "pypi", "-", r"AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}", end=_WORD_DASH),
    _tok("mailgun-key", "key pubkey", "-", r"[a-f0-9]{32}"),
    _tok("newrelic-key", "NRAK NRJS NRII", "-", r"[A-Za-z0-9-]{19,64}", end="A-Za-z0-9-"),
    _tok("heroku-key", "HRKU", "-", r"AA[A-Za-z0-9_-]{58}", end=_WORD_DASH),
    _tok("postman-key", "PMAK", "-", r"[a-f0-9]{24}-[a-f0-9]{34}"),
    _tok("pulumi-token", "pul", "-", r"[a-f0-9]{40}"),
    _tok("perplexity-key", "pplx", "-", r"[A-Za-z0-9]{48}"),
    _tok("xai-key", "xai", "-", r"[A-Za-z0-9]{80}"),
    _tok("age-secret-key", "AGE", "-", r"SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _tok(
        "1password-secret-key",
        "A3",
        "-",
        r"[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
    ),
    _tok("square-token", "sq0atp sq0csp", "-", r"[A-Za-z0-9_-]{22,60}", end=_WORD_DASH),
    # ---- anchored on "." (every tail starts with six token characters: see _AHEAD)
    _tok("sendgrid-key", "SG", ".", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", end=_WORD_DASH),
    _tok("hashicorp-token", "hvs hvb", ".", r"[A-Za-z0-9_-]{90,300}", end=_WORD_DASH),
    _tok(
        "hashicorp-token",
        "",
        ".",
        r"atlasv1\.[A-Za-z0-9_=-]{60,70}",
        end="A-Za-z0-9_=-",
        head_re=r"[A-Za-z0-9]{14}",
    ),
    _tok("google-oauth-token", "ya29", ".", r"[A-Za-z0-9_-]{20,2048}", end=_WORD_DASH),
    _tok(
        "harness-token",
        "pat sat",
        ".",
        r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        end=_WORD_DASH,
    ),
    _tok("dynatrace-token", "dt0c01", ".", r"[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
    _tok("airtable-token", "", ".", r"[a-f0-9]{64}", head_re=r"pat[A-Za-z0-9]{14}"),
    _tok(
        "discord-bot-token",
        "",
        ".",
        r"[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
        end=_WORD_DASH,
        accept=mixed_case,
        head_re=r"[MN][A-Za-z0-9]{23}",
    ),
    # ---- anchored on a literal of their own
    _tok("mailchimp-key", "", "-us", r"[0-9]{1,2}", head_re=r"[0-9a-f]{32}"),
    _tok("doppler-token", "", "dp.", r"(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}"),
    _tok("aws-access-key", "", "A", r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}"),
    _tok("google-api-key", "", "A", r"Iza[A-Za-z0-9_-]{35}", end=_WORD_DASH),
    _tok("atlassian-token", "", "A", r"T(?:ATT|CTT)3[A-Za-z0-9_=-]{100,300}", end="A-Za-z0-9_=-"),
    _tok("bitbucket-token", "", "A", r"TBB[A-Za-z0-9]{32}"),
    _tok("artifactory-key", "", "A", r"KCp[A-Za-z0-9]{69}"),
    _tok(
        "jwt",
        "",
        "eyJ",
        r"[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,8192}",
        before="A-Za-z0-9_.-",
        end="",
    ),
    _tok(
        "grafana-token",
        "",
        "eyJ",
        r"rIjoi[A-Za-z0-9]{70,400}={0,3}",
        before="A-Za-z0-9_.-",
        end=_B64,
    ),
    _tok("twilio-key", "", "SK", r"[0-9a-fA-F]{32}", accept=looks_random),
    _tok(
        "jwt",
        "",
        "ZXlK",
        r"[A-Za-z0-9+/_-]{40,16384}={0,2}",
        before=_B64,
        end=_B64,
        accept=base64_jwt,
    ),
    # one anchor for Facebook page tokens and Square's EAAA…: every anchor is a pass over the text
    _tok("facebook-token", "", "EAA", r"[MC][A-Za-z0-9]{100,2048}"),
    _tok("databricks-token", "", "dapi", r"[a-f0-9]{32}(?:-[0-9])?"),
    _tok("square-token", "", "EAA", r"A[A-Za-z0-9_-]{60}", end=_WORD_DASH, accept=mixed_case),
    _tok(
        "azure-client-secret",
        "",
        "Q~",
        r"[A-Za-z0-9_~.-]{31,34}",
        before="A-Za-z0-9_~.",
        end="A-Za-z0-9_~.-",
        head_re=r"[A-Za-z0-9_~.]{3}[0-9]",
    ),
)
