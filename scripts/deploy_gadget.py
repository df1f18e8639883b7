#!/usr/bin/env python3
"""Uploads the built gadget (dist/gadget/, made by scripts/build-gadget.sh) to a wiki through the
MediaWiki action API, logged in with a bot password (Special:BotPasswords; grants: basic,
editpage, createeditmovepage, editinterface, editsiteconfig).

Credentials and the target come from the environment only, never from a file in the repository:
  TPR_DEPLOY_API        e.g. https://xx.wikipedia.org/w/api.php
  TPR_DEPLOY_USER       bot-password user name, "User@appid"
  TPR_DEPLOY_PASSWORD   bot password

usage: deploy_gadget.py [--dir dist/gadget] [--position first|last] [--not-default]
                        [--json-definition] [--summary TEXT] [--dry-run]
  --position          where the definition line goes in MediaWiki:Gadgets-definition (default
                      first: in one load.php batch ResourceLoader executes modules in
                      registration order, so first = before the other gadgets)
  --not-default       strip `default` from the line (an opt-in gadget)
  --json-definition   also upload MediaWiki:Gadgets/tpr-auditor.json (Gadgets >= 1.42 with the
                      JSON repository); the line is still merged unless --no-definition-line
  --no-definition-line  leave MediaWiki:Gadgets-definition alone

Refuses to upload unless DIR/CHECKS_OK exists and every file it lists still has the recorded
sha256 (the build writes the stamp only after the ES2017 and size checks passed). Pages whose
text is already identical are not edited. Exit status 0 on success; every API error is fatal.
"""
import argparse
import hashlib
import http.cookiejar
import json
import os
import pathlib
import re
import sys
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
GADGET = "tpr-auditor"
USER_AGENT = "tpr-auditor-deploy/0.1 (scripts/deploy_gadget.py)"


def die(msg):
    print(f"deploy: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def say(msg):
    print(f"deploy: {msg}")


def verify_stamp(d):
    stamp = d / "CHECKS_OK"
    if not stamp.is_file():
        die(f"{stamp} missing: the build's checks did not pass (run scripts/build.sh); refusing to upload")
    listed = {}
    for line in stamp.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        listed[name.strip()] = digest
    for name, digest in listed.items():
        f = d / name
        if not f.is_file():
            die(f"{f} listed in CHECKS_OK is missing; refusing to upload")
        have = hashlib.sha256(f.read_bytes()).hexdigest()
        if have != digest:
            die(f"{f} changed after the build's checks (sha256 {have[:12]} != {digest[:12]}); refusing to upload")
    return listed


class Api:
    def __init__(self, url):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method, **params):
        params.update(format="json", formatversion="2")
        data = urllib.parse.urlencode(params).encode()
        if method == "GET":
            req = urllib.request.Request(self.url + "?" + data.decode(), headers={"User-Agent": USER_AGENT})
        else:
            req = urllib.request.Request(self.url, data=data, headers={
                "User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.opener.open(req, timeout=120) as res:
                body = json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            die(f"{method} {params.get('action')}: HTTP {e.code}")
        except (urllib.error.URLError, OSError) as e:
            die(f"{method} {params.get('action')}: {e}")
        if "error" in body:
            err = body["error"]
            die(f"{params.get('action')}: {err.get('code')}: {err.get('info')}")
        return body

    def token(self, kind):
        return self.call("GET", action="query", meta="tokens", type=kind)["query"]["tokens"][f"{kind}token"]

    def login(self, user, password):
        res = self.call("POST", action="login", lgname=user, lgpassword=password, lgtoken=self.token("login"))
        if res.get("login", {}).get("result") != "Success":
            die(f"login as {user} failed: {res.get('login', {}).get('reason') or res.get('login')}")
        return res["login"]["lgusername"]

    def text(self, title):
        res = self.call("GET", action="query", prop="revisions", titles=title, rvprop="content|contentmodel",
                        rvslots="main")
        page = res["query"]["pages"][0]
        if page.get("missing") or "revisions" not in page:
            return None
        return page["revisions"][0]["slots"]["main"].get("content")

    def edit(self, title, text, model, summary, csrf):
        res = self.call("POST", action="edit", title=title, text=text, contentmodel=model, summary=summary,
                        bot="1", token=csrf)
        edit = res.get("edit", {})
        if edit.get("result") != "Success":
            die(f"edit {title} failed: {edit}")
        return "unchanged" if edit.get("nochange") else f"saved (revision {edit.get('newrevid')})"


def merge_definition(current, line, position):
    """The definition page with our lines (the auditor, then its hidden scanner module; `line`
    may hold both) and no other tpr-auditor / tpr-auditor-scanner line, first or last."""
    pattern = re.compile(r"^\*+ *" + re.escape(GADGET) + r"(-scanner)?\s*(\[|\|)")
    kept = [ln for ln in (current or "").split("\n") if not pattern.match(ln)]
    while kept and not kept[-1].strip():
        kept.pop()
    ours = [ln for ln in line.split("\n") if ln.strip()]
    if position == "first":
        return "\n".join(ours + kept)
    return "\n".join(kept + ours)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=str(ROOT / "dist" / "gadget"))
    ap.add_argument("--position", choices=["first", "last"], default="first")
    ap.add_argument("--not-default", action="store_true")
    ap.add_argument("--json-definition", action="store_true")
    ap.add_argument("--no-definition-line", action="store_true")
    ap.add_argument("--summary", default="TPR Auditor gadget (scripts/deploy-gadget.sh)")
    ap.add_argument("--dry-run", action="store_true", help="verify the build and log in, edit nothing")
    args = ap.parse_args()

    d = pathlib.Path(args.dir)
    listed = verify_stamp(d)
    manifest = json.loads((d / "pages.json").read_text(encoding="utf-8"))
    say(f"build verified: {len(listed)} files match {d / 'CHECKS_OK'}")

    api_url = os.environ.get("TPR_DEPLOY_API")
    user = os.environ.get("TPR_DEPLOY_USER")
    password = os.environ.get("TPR_DEPLOY_PASSWORD")
    missing = [n for n, v in (("TPR_DEPLOY_API", api_url), ("TPR_DEPLOY_USER", user),
                              ("TPR_DEPLOY_PASSWORD", password)) if not v]
    if missing:
        die(f"set {', '.join(missing)} in the environment (a bot password: Special:BotPasswords)")
    if "@" not in user:
        die("TPR_DEPLOY_USER must be a bot-password login name, User@appid")

    api = Api(api_url)
    say(f"logged in to {api_url} as {api.login(user, password)}")
    if args.dry_run:
        say("dry run: nothing edited")
        return
    csrf = api.token("csrf")

    for page in manifest["pages"]:
        role = page.get("role")
        if role == "json-definition" and not args.json_definition:
            continue
        if role == "definition-line" and args.no_definition_line:
            continue
        if page["file"] not in listed:
            die(f"{page['file']} is not covered by CHECKS_OK")
        text = (d / page["file"]).read_text(encoding="utf-8")
        if role == "definition-line":
            line = text.strip()
            if args.not_default:
                line = re.sub(r"\|default(?=[|\]])", "", line)
            text = merge_definition(api.text(page["title"]), line, args.position)
        elif role == "json-definition" and args.not_default:
            data = json.loads(text)
            data["settings"]["default"] = False
            text = json.dumps(data, indent="\t")
        current = api.text(page["title"])
        if current is not None and current.rstrip() == text.rstrip():  # MediaWiki trims trailing space
            say(f"{page['title']}: already up to date")
            continue
        result = api.edit(page["title"], text, page["contentmodel"], args.summary, csrf)
        say(f"{page['title']} ({page['contentmodel']}, {len(text.encode())} bytes): {result}")
    say("done")


if __name__ == "__main__":
    main()
