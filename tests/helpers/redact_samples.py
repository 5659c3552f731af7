"""Fake credentials in the real formats, one or more per redaction kind, and near misses.

The values are generated at import from a fixed seed, so no scanner flags this file and every
run sees the same strings. Used by tests/test_redact.py and bench/bench_redact.py.
"""

from __future__ import annotations

import base64
import random
import string

_RNG = random.Random(1414)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    """``n`` characters of ``alphabet``, with an upper, a lower and a digit when it has them."""
    while True:
        text = "".join(_RNG.choice(alphabet) for _ in range(n))
        wants = [str.isupper, str.islower, str.isdigit]
        if n < 6 or all(any(f(c) for c in text) for f in wants if any(f(c) for c in alphabet)):
            return text


def uuid() -> str:
    h = rnd(32, HEX)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


AWS_ID = "AKIA" + rnd(16, string.ascii_uppercase + string.digits)
AWS_SECRET = rnd(40, B64)
GH = "ghp_" + rnd(36)
JWT = "eyJ" + rnd(30, URLSAFE) + ".eyJ" + rnd(60, URLSAFE) + "." + rnd(43, URLSAFE)
RSA_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(rnd(64, B64) for _ in range(4))
    + "\n-----END RSA PRIVATE KEY-----"
)

# (kind, text, secret): the secret must be gone and the kind reported
POSITIVE: list[tuple[str, str, str]] = []


def _pos(kind: str, template: str, secret: str) -> None:
    POSITIVE.append((kind, template.format(s=secret), secret))


_pos("aws-access-key", "export AWS_ACCESS_KEY_ID={s}\n", AWS_ID)
_pos("aws-access-key", "git checkout -b feat/{s}-rotate", AWS_ID)  # X2
_pos("aws-access-key", "backup name {s}_old.json", AWS_ID)  # X2
_pos("aws-access-key", "session key ASIA{s}", rnd(16, string.ascii_uppercase + string.digits))
_pos("aws-secret-key", "[default]\naws_secret_access_key = {s}\n", AWS_SECRET)
_pos("aws-secret-key", "AWS_SECRET_ACCESS_KEY={s}", AWS_SECRET)
_pos("aws-secret-key", f"id {AWS_ID}\nand the secret is {{s}} keep it safe", AWS_SECRET)  # X5
_pos("aws-secret-key", f"{{s}},{AWS_ID}", AWS_SECRET)  # X5, csv export order
for _prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
    _pos("github-token", "GH_TOKEN {s} then push", _prefix + rnd(36))
_pos("github-token", "pat {s} ok", "github_pat_11" + rnd(20) + "_" + rnd(59))
for _prefix in ("glpat-", "gldt-", "glrt-", "glft-", "glsoat-"):
    _pos("gitlab-token", "CI: {s} used", _prefix + rnd(20, URLSAFE))
_pos("gitlab-token", "trigger {s}", "glptt-" + rnd(40, HEX))
_pos("gitlab-token", "agent {s}", "glagent-" + rnd(50, URLSAFE))
_pos("slack-token", "SLACK_BOT={s}", "xoxb-" + rnd(12, string.digits) + "-" + rnd(24))
_pos("slack-token", "user token {s}", "xoxp-" + rnd(12, string.digits) + "-" + rnd(30))
_pos("slack-token", "app {s}", "xapp-1-" + rnd(11) + "-" + rnd(13, string.digits) + "-" + rnd(64))
_pos(
    "slack-webhook",
    "curl -X POST https://hooks.slack.com/services/{s} -d @msg.json",
    "T" + rnd(8, string.ascii_uppercase) + "/B" + rnd(10, string.ascii_uppercase) + "/" + rnd(24),
)
_pos(
    "discord-webhook",
    "webhook: https://discord.com/api/webhooks/{s}",
    rnd(18, string.digits) + "/" + rnd(68, URLSAFE),
)
_pos(
    "teams-webhook",
    "TEAMS_URL=https://contoso.webhook.office.com/webhookb2/{s}",
    f"{uuid()}@{uuid()}/IncomingWebhook/{rnd(32, HEX)}/{uuid()}",
)
_pos("stripe-key", "stripe.api_key = '{s}'", "sk_live_" + rnd(24))
_pos("stripe-key", "restricted {s}", "rk_test_" + rnd(24))
_pos("stripe-key", "STRIPE_WEBHOOK={s}", "whsec_" + rnd(32))
_pos("openai-key", "OPENAI_API_KEY={s}", "sk-proj-" + rnd(74, URLSAFE) + "T3BlbkFJ" + rnd(74))
_pos("openai-key", "legacy {s} key", "sk-" + rnd(20) + "T3BlbkFJ" + rnd(20))
_pos("openrouter-key", "OPENROUTER={s}", "sk-or-v1-" + rnd(64, HEX))
_pos("anthropic-key", 'Anthropic(api_key="{s}")', "sk-ant-api03-" + rnd(93, URLSAFE) + "AA")
_pos("google-api-key", "maps?key={s}&x=1", "AIza" + rnd(35, URLSAFE))
_pos("1password-token", "OP_SERVICE_ACCOUNT_TOKEN={s}", "ops_eyJ" + rnd(300, B64))
_pos(
    "1password-secret-key",
    "secret key {s}",
    "A3-" + "-".join(rnd(n, string.ascii_uppercase + string.digits) for n in (6, 11, 5, 5, 5)),
)
_pos("jwt", "cookie session={s}; Path=/", JWT)
_pos("npm-token", "//registry.npmjs.org/:_authToken={s}", "npm_" + rnd(36))
_pos("pypi-token", "password = {s}", "pypi-AgEIcHlwaS5vcmc" + rnd(70, URLSAFE))
_pos("rubygems-token", "GEM_HOST_API_KEY: {s}", "rubygems_" + rnd(48, HEX))
_pos("docker-token", "docker login -p {s}", "dckr_pat_" + rnd(27, URLSAFE))
_pos("sendgrid-key", "SENDGRID={s}", "SG." + rnd(22, URLSAFE) + "." + rnd(43, URLSAFE))
_pos("mailgun-key", "api:{s}", "key-" + rnd(32, HEX))
_pos("mailchimp-key", "mc {s}", rnd(32, HEX) + "-us21")
_pos("twilio-key", "TWILIO {s}", "SK" + rnd(32, HEX))
_pos("square-token", "square {s}", "sq0atp-" + rnd(22, URLSAFE))
_pos("square-token", "square {s}", "EAAA" + rnd(60, URLSAFE))
_pos(
    "braintree-token",
    "BT={s}",
    "access_token$production$"
    + rnd(16, string.ascii_lowercase + string.digits)
    + "$"
    + rnd(32, HEX),
)
_pos("huggingface-token", "HF_TOKEN {s}", "hf_" + rnd(34, string.ascii_letters))
_pos("huggingface-token", "org {s}", "api_org_" + rnd(34, string.ascii_letters))
_pos("groq-key", "groq {s}", "gsk_" + rnd(52))
_pos("replicate-token", "replicate {s}", "r8_" + rnd(37))
_pos("perplexity-key", "pplx {s}", "pplx-" + rnd(48))
_pos("xai-key", "grok {s}", "xai-" + rnd(80))
_pos("digitalocean-token", "doctl auth init -t {s}", "dop_v1_" + rnd(64, HEX))
_pos("heroku-key", "heroku {s}", "HRKU-AA" + rnd(58, URLSAFE))
_pos("shopify-token", "X-Shopify-Access-Token: {s}", "shpat_" + rnd(32, HEX))
_pos("atlassian-token", "jira {s}", "ATATT3" + rnd(186, URLSAFE))
_pos("bitbucket-token", "bb app password {s}", "ATBB" + rnd(32))
_pos("linear-key", "linear {s}", "lin_api_" + rnd(40))
_pos("notion-token", "notion {s}", "ntn_" + rnd(11, string.digits) + rnd(35))
_pos("notion-token", "notion {s}", "secret_" + rnd(43))
_pos("vercel-token", "vercel {s}", "vcp_" + rnd(40))
_pos("netlify-token", "netlify {s}", "nfp_" + rnd(36))
_pos("doppler-token", "DOPPLER_TOKEN {s}", "dp.pt." + rnd(43))
_pos("databricks-token", "databricks {s}", "dapi" + rnd(32, HEX))
_pos("grafana-token", "grafana {s}", "glc_" + rnd(60, B64) + "==")
_pos("grafana-token", "grafana sa {s}", "glsa_" + rnd(32) + "_" + rnd(8, HEX))
_pos("grafana-token", "grafana {s}", "eyJrIjoi" + rnd(80))
_pos("newrelic-key", "NEW_RELIC {s}", "NRAK-" + rnd(27, string.ascii_uppercase + string.digits))
_pos("sentry-token", "SENTRY_AUTH_TOKEN {s}", "sntryu_" + rnd(64, HEX))
_pos(
    "age-secret-key",
    "# created: 2024\n{s}\n",
    "AGE-SECRET-KEY-1" + rnd(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
)
_pos("artifactory-key", "X-JFrog-Art-Api: {s}", "AKCp" + rnd(69))
_pos("postman-key", "postman {s}", "PMAK-" + rnd(24, HEX) + "-" + rnd(34, HEX))
_pos("pulumi-token", "PULUMI_ACCESS_TOKEN {s}", "pul-" + rnd(40, HEX))
_pos("hashicorp-token", "VAULT_TOKEN {s}", "hvs." + rnd(95, URLSAFE))
_pos(
    "hashicorp-token",
    "terraform {s}",
    rnd(14, string.ascii_lowercase + string.digits) + ".atlasv1." + rnd(64, URLSAFE),
)
_pos("dynatrace-token", "dt {s}", "dt0c01." + rnd(24) + "." + rnd(64))
_pos("airtable-token", "airtable {s}", "pat" + rnd(14) + "." + rnd(64, HEX))
_pos("discord-bot-token", "bot {s}", "M" + rnd(23) + "." + rnd(6, URLSAFE) + "." + rnd(27))
_pos("planetscale-token", "pscale {s}", "pscale_tkn_" + rnd(43, URLSAFE))
_pos("supabase-token", "supabase {s}", "sbp_" + rnd(40, HEX))
_pos("fly-token", "fly {s}", "fo1_" + rnd(43, URLSAFE))
_pos(
    "azure-client-secret",
    "client secret {s}",
    rnd(3) + "8Q~" + rnd(34, ALNUM + "_~.-"),
)
_pos(
    "azure-storage-key",
    "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net",
    rnd(86, B64) + "==",
)
_pos("private-key", "key file:\n{s}\nthe end", RSA_KEY)
_pos(
    "private-key",
    "{s}",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n" + rnd(70, B64) + "\n-----END OPENSSH PRIVATE KEY-----",
)
_pos(
    "private-key",
    '{{"type": "service_account", "private_key": "{s}", "client_email": "x@y.iam"}}',
    RSA_KEY.replace("RSA ", "").replace("\n", "\\n"),
)
_pos("url-credentials", "DATABASE_URL=postgres://admin:{s}@db.example.com:5432/app", rnd(16))
_pos("url-credentials", "mongodb+srv://app:{s}@cluster0.mongodb.net/db", rnd(20))
_pos("url-credentials", "redis://:{s}@cache:6379", rnd(12))
_pos("url-credentials", "amqp://guest:{s}@rabbit:5672/", rnd(10))
_pos("bearer-token", 'curl -H "Authorization: Bearer {s}" https://api.x', rnd(40, URLSAFE + "."))
_pos("basic-auth", "Authorization: Basic {s}", rnd(24, B64) + "==")
_pos("sourcegraph-token", "src {s}", "sgp_" + rnd(16, HEX) + "_" + rnd(40, HEX))
_pos("langsmith-key", "LANGSMITH {s}", "lsv2_pt_" + rnd(32, HEX) + "_" + rnd(10, HEX))
_pos("shippo-token", "shippo {s}", "shippo_live_" + rnd(40, HEX))
_pos("sonar-token", "SONAR {s}", "squ_" + rnd(40, HEX))
_pos("google-oauth-token", "access_token {s}", "ya29." + rnd(60, URLSAFE))
_pos("harness-token", "harness {s}", "pat." + rnd(22, URLSAFE) + "." + rnd(24) + "." + rnd(20))
_pos("facebook-token", "fb {s}", "EAAC" + rnd(120))
_pos("jwt", "b64 {s}", base64.b64encode(JWT.encode()).decode())
_pos("password", 'DB_PASSWORD="{s}"', "s3cr3t!" + rnd(6))
_pos("password", "mysql_pwd: {s}", rnd(12))
_pos("token", "GITLAB_TOKEN = '{s}'", rnd(20))
_pos("api-key", '{{"api_key": "{s}"}}', rnd(24))
_pos("api-key", "x-api-key: {s}", rnd(32, HEX))
_pos("api-key", "DD_API_KEY={s}", rnd(32, HEX))  # Datadog: no prefix, only the name
_pos("api-key", "CO_API_KEY={s}", rnd(40))  # Cohere
_pos("api-key", "HEROKU_API_KEY={s}", uuid())  # Heroku's older keys are uuids
_pos("secret", "client_secret: {s}", rnd(30))
_pos("secret", "SECRET_KEY = '{s}'", "django-insecure-" + rnd(30))

# (kind, text): near misses of a kind that must pass unchanged
NEGATIVE: list[tuple[str, str]] = [
    ("aws-access-key", "AKIA" + rnd(15, string.ascii_uppercase)),
    ("aws-access-key", "lowercase akia" + rnd(16, string.ascii_lowercase)),
    ("aws-access-key", "XAKIA" + rnd(16, string.ascii_uppercase + string.digits) + "Z"),
    ("aws-secret-key", "a lone 40-char string " + rnd(40, B64) + " with no key id near"),
    ("aws-secret-key", "aws_secret_access_key = os.environ['AWS_SECRET_ACCESS_KEY']"),
    ("github-token", "ghp_" + rnd(30)),
    ("github-token", "ghx_" + rnd(36)),
    ("github-token", "github_pat_too_short"),
    ("gitlab-token", "glpat-" + rnd(12)),
    ("gitlab-token", "see glpat-tokens in the docs"),
    ("slack-token", "xoxb-not-a-real-token-here"),
    ("slack-webhook", "docs at https://api.slack.com/messaging/webhooks"),
    ("slack-webhook", "https://hooks.slack.com/services/"),
    ("discord-webhook", "discord.com/api/webhooks/{webhook.id}/{webhook.token}"),
    ("teams-webhook", "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks"),
    ("stripe-key", "sk_live_" + rnd(6)),
    ("stripe-key", "pk_live_" + rnd(24) + " is the publishable key"),
    ("openai-key", "sk-learn-helpers-module"),
    ("openai-key", "risk-assessment-2024-q3-report-final-version"),
    ("openrouter-key", "sk-or-v1 is the prefix"),
    ("anthropic-key", "sk-ant- prefix is documented"),
    ("google-api-key", "AIza" + rnd(20, URLSAFE)),
    ("1password-token", "ops_team_channel_settings_page_and_more_words_here"),
    ("1password-secret-key", "A3-ABCDEF is a cell range"),
    ("jwt", "header only eyJhbGciOiJIUzI1NiJ9 here"),
    ("jwt", "eyJ" + rnd(40, URLSAFE) + " without dots"),
    ("npm-token", "npm_config_registry=https://registry.npmjs.org/"),
    ("npm-token", "npm_" + rnd(20)),
    ("pypi-token", "pypi-simple-index"),
    ("rubygems-token", "rubygems_" + rnd(20, HEX)),
    ("docker-token", "dckr_pat_short"),
    ("sendgrid-key", "SG.x.y"),
    ("mailgun-key", "a key-value store"),
    ("mailgun-key", "key-" + rnd(31, HEX)),
    ("mailchimp-key", rnd(32, HEX) + "-usage.log"),
    ("twilio-key", "SKIP_TESTS=1 and SK" + rnd(20, HEX)),
    ("square-token", "sq0atp-short"),
    ("square-token", "EAAA" + "A" * 60),
    ("braintree-token", "access_token$production$"),
    ("huggingface-token", "hf_hub_download(repo_id='x')"),
    ("groq-key", "gsk_" + rnd(30)),
    ("replicate-token", "r8_" + rnd(30)),
    ("perplexity-key", "pplx-" + rnd(20)),
    ("xai-key", "xai-" + rnd(40)),
    ("digitalocean-token", "dop_v1_" + rnd(40, HEX)),
    ("heroku-key", "HRKU-short"),
    ("shopify-token", "shpat_" + rnd(20, HEX)),
    ("atlassian-token", "ATATT3" + rnd(40)),
    ("bitbucket-token", "ATBB" + rnd(20)),
    ("linear-key", "lin_api_" + rnd(20)),
    ("notion-token", "secret_key_base_for_the_application_config_value"),
    ("notion-token", "ntn_" + rnd(11, string.digits)),
    ("vercel-token", "vcp_" + "abcdefghijklmnopqrstuvwxyz"),
    ("netlify-token", "nfp_" + rnd(20)),
    ("doppler-token", "dp.pt." + rnd(20)),
    ("databricks-token", "dapi" + rnd(20, HEX)),
    ("grafana-token", "glc_" + rnd(20)),
    ("grafana-token", "eyJrIjoi" + rnd(30)),
    ("newrelic-key", "NRAK-" + rnd(10)),
    ("sentry-token", "sntryu_" + rnd(40, HEX)),
    ("age-secret-key", "AGE-SECRET-KEY-1 is the prefix of age keys"),
    ("artifactory-key", "AKCp" + rnd(30)),
    ("postman-key", "PMAK-short"),
    ("pulumi-token", "pul-" + rnd(20, HEX)),
    ("hashicorp-token", "hvs." + rnd(20)),
    ("hashicorp-token", "app.terraform.io uses atlasv1 tokens"),
    ("dynatrace-token", "dt0c01." + rnd(10)),
    ("airtable-token", "pat" + rnd(14) + "." + rnd(20, HEX)),
    ("discord-bot-token", "M" + "a" * 23 + ".abcdef." + "b" * 27),
    ("planetscale-token", "pscale_tkn_short"),
    ("supabase-token", "sbp_" + rnd(20, HEX)),
    ("fly-token", "fo1_" + rnd(20)),
    ("azure-client-secret", "the Q~ sequence"),
    ("azure-storage-key", "DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;"),
    ("azure-storage-key", "AccountKey=<your storage key>"),
    ("private-key", "-----BEGIN PUBLIC KEY-----\n" + rnd(64, B64) + "\n-----END PUBLIC KEY-----"),
    ("private-key", "-----BEGIN CERTIFICATE-----\n" + rnd(64, B64) + "\n-----END CERTIFICATE-----"),
    ("private-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rnd(40, B64) + " me@laptop"),
    ("url-credentials", "https://user@github.com/o/r and git@github.com:o/r.git"),
    ("url-credentials", "postgres://localhost:5432/app"),
    ("url-credentials", "https://example.com/a@b"),
    ("bearer-token", "Bearer authentication is used by the API"),
    ("basic-auth", "basic auth is enabled; Authorization: Basic"),
    ("password", "Enter your password: it must have 12 characters"),
    ("password", "password = input('Password: ')"),
    ("token", "token = get_token()"),
    ("token", "max_tokens=4096, tokens_input: 12345"),
    ("api-key", "api_key: Optional[str] = None"),
    ("api-key", "primary_key = 'id'"),
    ("secret", "secret: str"),
    ("secret", "secret_file=/run/secrets/db"),
    ("sourcegraph-token", "sgp_" + rnd(20, HEX)),
    ("langsmith-key", "lsv2_pt_" + rnd(20, HEX)),
    ("shippo-token", "shippo_live_server"),
    ("sonar-token", "squ_" + rnd(20, HEX)),
    ("google-oauth-token", "ya29.short"),
    ("harness-token", "pat.on.the.back"),
    ("facebook-token", "EAAC" + rnd(40)),
]


def adversarial(secret: str, size: int) -> dict[str, str]:
    """Inputs of about ``size`` characters built from one secret to make a rule work hard:
    repeats without separators, near misses, runs of the prefix, and one huge token."""
    reps = max(1, size // (len(secret) + 1))
    prefix = secret[: max(3, len(secret) // 4)]
    body = "".join(c for c in secret if c.isalnum()) or "a1B2"
    return {
        "repeated": secret * reps,
        "near-miss": (secret[:-1] + " ") * reps,
        "prefix-run": prefix * max(1, size // len(prefix)),
        "huge-token": secret[:8] + body * max(1, size // len(body)),
        "dash-joined": (secret + "-") * reps,
    }
