"""Leak forms that dodge a scanner (the evasions of the redaction review, secrets-breadth.md §4):
``.env`` variants, URL query parameters and userinfo, percent-encoding, JSON escapes, wrapped
lines, look-alike spaces and invisible characters, YAML block scalars, command lines, secret
names with words around the keyword, repeats, markup. Each case: (group, name, text, secrets
that must not survive). The secrets are generated from a fixed seed (no scanner flags this file).
"""

from __future__ import annotations

import json
import random
import string
from urllib.parse import quote

_RNG = random.Random(2626)
_ALNUM = string.ascii_letters + string.digits


def _rnd(n: int, alphabet: str = _ALNUM) -> str:
    while True:
        text = "".join(_RNG.choice(alphabet) for _ in range(n))
        mixed = any(c.isdigit() for c in text) and any(c.isalpha() for c in text)
        if mixed or alphabet.isdigit():
            return text


PW = _rnd(22, string.ascii_lowercase + string.digits)  # a generated password
KEY = _rnd(32)  # an opaque API key
GH = "ghp_" + _rnd(36)
OPENAI = "sk-proj-" + _rnd(40)
SLACK = "xoxb-" + _rnd(12, string.digits) + "-" + _rnd(24)
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJ" + _rnd(40) + "." + _rnd(43)
AWS_ID = "AKIA" + _rnd(16, string.ascii_uppercase + string.digits)
AWS_SECRET = _rnd(40, _ALNUM + "+/")
SAS = _rnd(43, _ALNUM + "+/") + "="
ZWSP, NBSP = "\u200b", "\u00a0"

Case = tuple[str, str, str, list[str]]
CASES: list[Case] = []


def _case(group: str, name: str, text: str, *secrets: str) -> None:
    CASES.append((group, name, text, list(secrets)))


def _transcript_line(text: str) -> str:
    """A Claude Code transcript line holding ``text``, as raw JSON (escapes and all)."""
    entry = {"type": "user", "cwd": "/home/dev/app", "message": {"content": text}}
    return json.dumps(entry)


for name, form in (
    ("plain", "API_KEY={s}"),
    ("double quotes", 'API_KEY="{s}"'),
    ("single quotes", "API_KEY='{s}'"),
    ("export", "export API_KEY={s}"),
    ("export quoted", 'export API_KEY="{s}"'),
    ("spaces", "API_KEY = {s}"),
    ("password", "DB_PASSWORD={s}"),
    ("PGPASS", "export PGPASS={s}"),
    ("lower-case name", "secret_token={s}"),
    ("comment after", "API_SECRET={s}  # rotate monthly"),
):
    _case(
        ".env",
        name,
        form.format(s=KEY if "PASS" not in form else PW),
        KEY if "PASS" not in form else PW,
    )
for name, param in (
    ("access_token", "access_token"),
    ("token", "token"),
    ("password", "password"),
    ("client_secret", "client_secret"),
    ("apikey", "apikey"),
    ("auth", "auth"),
    ("api_key", "api_key"),
):
    _case(
        "url query", name, f"GET https://api.example.com/v1/items?limit=10&{param}={KEY}&x=1", KEY
    )
_case(
    "url query",
    "sig (SAS)",
    f"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig={quote(SAS, safe='')}",
    SAS,
)
_case(
    "url query",
    "X-Amz-Signature",
    f"https://s3.amazonaws.com/b/k?X-Amz-Signature={_rnd(64, '0123456789abcdef')}&X-Amz-Date=1",
)
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2].split("=")[1].split("&")[0]])
_case(
    "url query",
    "ya29 in access_token",
    "https://www.googleapis.com/x?access_token=ya29." + KEY,
    "ya29." + KEY,
)
_case("url userinfo", "x-access-token", f"https://x-access-token:{GH}@github.com/acme/app.git", GH)
_case("url userinfo", "token as user", f"https://{GH}@github.com/acme/app.git", GH)
_case("url userinfo", "postgres", f"postgres://admin:{PW}@db.internal:5432/app", PW)
_case("url userinfo", "redis empty user", f"redis://:{PW}@cache:6379/0", PW)
_case("url userinfo", "mongodb+srv", f"mongodb+srv://app:{PW}@cluster0.example.net/db", PW)
_case("url userinfo", "JSON-escaped slashes", f"conn postgres:\\/\\/admin:{PW}@db\\/app", PW)
_case("url-encoded", "JSON body", "payload=" + quote(json.dumps({"api_key": KEY}), safe=""), KEY)
_case(
    "url-encoded",
    "URL with userinfo in a parameter",
    "https://ci.example.com/r?next="
    + quote(f"https://x-access-token:{GH}@github.com/a.git", safe=""),
    GH,
)
_case("url-encoded", "every byte encoded", "token=" + "".join(f"%{ord(c):02X}" for c in GH), GH)
_case("url-encoded", "password=%3D form", "password%3D" + PW, PW)
_case("url-encoded", "form body", f"grant_type=client_credentials&client_secret={KEY}", KEY)
for name, text in (
    ("openai key after \\n", "see below\n" + OPENAI),
    ("slack token after \\t", "bot\t" + SLACK),
    ("JSON inside JSON, password", json.dumps({"password": PW})),
    ("JSON inside JSON, api_key", json.dumps({"api_key": KEY})),
    ("quoted env value", f'export API_SECRET="{KEY}"'),
    (".env printed by a tool", f"DEBUG=1\nAPI_KEY={KEY}\nPORT=8080"),
):
    secret = next(s for s in (OPENAI, SLACK, PW, KEY) if s in text)
    _case("json-escaped", name, _transcript_line(text), secret)
_case(
    "split",
    "password wrapped",
    f"password={PW[:11]}\n{PW[11:].upper()}{PW[11:]}",
    PW[:11],
    PW[11:].upper() + PW[11:],
)
_case(
    "split",
    "aws secret wrapped",
    f"{AWS_ID}\naws_secret_access_key = {AWS_SECRET[:25]}\n{AWS_SECRET[25:]}",
    AWS_ID,
    AWS_SECRET[:25],
)
_case(
    "split",
    "PEM in JSON",
    json.dumps(
        {
            "private_key": "-----BEGIN PRIVATE KEY-----\n"
            + _rnd(64)
            + "\n-----END PRIVATE KEY-----\n"
        }
    ),
)
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2].split("\\n")[1]])
for name, text in (
    ("full-width colon", f"password\uff1a{PW}"),
    ("full-width equals", f"API_SECRET\uff1d{KEY}"),
    ("NBSP after the colon", f"password:{NBSP}{PW}"),
    ("zero-width space in a token", GH[:10] + ZWSP + GH[10:]),
    ("smart quotes", f"api_key = \u201c{KEY}\u201d"),
    ("CJK label", f"\u5bc6\u7801\uff1a{GH}"),
    ("glued to CJK", f"\u4ee4\u724c{GH}"),
    ("soft hyphen in a token", OPENAI[:12] + "\u00ad" + OPENAI[12:]),
    ("ideographic space", f"token:\u3000{KEY}"),
):
    secret = next(
        s for s in (PW, KEY, GH, OPENAI) if s in text.replace(ZWSP, "").replace("\u00ad", "")
    )
    _case("unicode", name, text, secret)
_case("yaml block", "password: |", f"db:\n  user: app\n  password: |\n    {PW}\n", PW)
_case("yaml block", "api_key: >-", f"service:\n  api_key: >-\n    {KEY}\n", KEY)
_case("yaml block", "token: | with a ghp token", f"ci:\n  token: |\n    {GH}\n", GH)
_case(
    "yaml block",
    "stringData block",
    f"kind: Secret\nstringData:\n  DB_PASSWORD: |-\n    {PW}\n",
    PW,
)
_case("yaml block", "Actions env", f"env:\n  API_TOKEN: {KEY}\n", KEY)
_case("curl", "-u user:password", f"curl -u admin:{PW} https://jenkins.example.com/api/json", PW)
_case("curl", "--user quoted", f"curl --user 'deploy:{KEY}' https://registry.example.com/v2/", KEY)
_case("curl", "Cookie: session=", f"curl -H 'Cookie: session={KEY}' https://app.example.com/", KEY)
_case("curl", "Authorization: Bearer", f'curl -H "Authorization: Bearer {KEY}" https://api.x', KEY)
_case("curl", "X-API-Key header", f'curl -H "X-API-Key: {KEY}" https://api.x', KEY)
_case("curl", "-d client_secret", f"curl -d client_secret={KEY} https://auth.x/token", KEY)
_case("curl", "mysql -p glued", f"mysql -u root -p{PW} -h db.internal app", PW)
_case("curl", "sshpass -p", f"sshpass -p '{PW}' ssh deploy@host", PW)
_case("curl", "docker login -p", f"docker login -u ci -p {PW} registry.example.com", PW)
_case("curl", "--password option", f"tool sync --password={PW} --verbose", PW)
_case("curl", "--api-token option", f"deployer --api-token {KEY}", KEY)
for name, text in (
    ("DB_PASSWORD_PROD=", f'DB_PASSWORD_PROD="{PW}"'),
    ("password1 =", f'password1 = "{PW}"'),
    ("API_TOKEN_V2=", f"API_TOKEN_V2={KEY}"),
    ("sheet_token2 :=", f'sheet_token2 := "{KEY}"'),
    ("SECRET_KEY_BASE=", f"SECRET_KEY_BASE={KEY}"),
    ("client_secret_value:", f"client_secret_value: {KEY}"),
    ("Authorization without scheme", f"Authorization: {KEY}"),
    ("echoed on the next line", f"$ export API_SECRET={KEY}\n$ echo $API_SECRET\n{KEY}\n"),
    ("twice on a line", f"token = '{KEY}' | '{KEY}'"),
    ("later in a command", f"DB_PASSWORD={PW}\npsql -h db.internal -U app -W {PW}"),
):
    _case("names & repeats", name, text, PW if PW in text else KEY)
_case(
    "markup",
    "<password> element",
    f"<server>\n  <id>nexus</id>\n  <password>{PW}</password>\n</server>",
    PW,
)
_case("markup", "NuGet ClearTextPassword", f'<add key="ClearTextPassword" value="{PW}" />', PW)
_case("markup", "HTML hidden input", f'<input type="hidden" name="api_key" value="{KEY}">', KEY)
_case("markup", "multi-line element", f"<apiToken>\n    {KEY}\n</apiToken>", KEY)
_case(
    "shapes",
    "base64 of a JWT",
    "ZXlK" + __import__("base64").b64encode(JWT.encode()).decode()[4:],
)
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2]])
_case(
    "shapes",
    "Google ya29",
    "token ya29." + _rnd(60),
)
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2].split()[1]])
_case(
    "shapes",
    "sourcegraph",
    "src token sgp_" + _rnd(40, "0123456789abcdef"),
)
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2].split()[2]])
_case("shapes", "facebook page token", "EAAC" + _rnd(120))
CASES[-1] = (*CASES[-1][:3], [CASES[-1][2]])
