#!/usr/bin/env python3
"""Push the demo's sample release history into a registry.

    sample_history.py --registry URL [--user U --password-file F] [--ca-file F]

Five services released over three weeks ending 2026-11-20 (times in UTC).
What the history shows off:
  * tags "<semver>-master" plus some "-develop" ones (the env filter);
  * days when only some services released, and days when none did;
  * worker 1.0.0 is one image with two tags (1.0.0-master and 1.0.0-develop);
  * front 3.1.0-master is a multi-arch index (linux/amd64 + linux/arm64/v8);
  * shop/cart 1.1.0-master is an OCI image with OCI annotations;
  * releases near midnight UTC, which land on another day in other time
    zones: worker 0.9.1 (Nov 4 23:50 UTC = Nov 5 in Europe/Paris),
    web 1.5.0 (Nov 9 00:15 UTC = Nov 8 in America/New_York),
    front 3.2.0 (Nov 12 23:35 UTC = Nov 13 in Europe/Paris),
    web 1.6.1 (Nov 19 23:55 UTC = Nov 20 in Europe/Paris).

HISTORY below is the single source: the demo text and tests may import it
(`from sample_history import HISTORY, as_spec`).
"""

import argparse
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from regpush import RegistryClient, RegistryError  # noqa: E402

START, END = "2026-10-31", "2026-11-20"
REPOS = ["web", "api", "worker", "front", "shop/cart"]

# (created, repository, tags, options) in push order (chronological).
# options: "platforms" -> multi-arch index of [(os, arch, variant, created)],
#          "kind": "oci", "annotations": {...}
HISTORY = [
    # week 1: everything ships once
    ("2026-10-31T09:12:00Z", "web", ["1.4.0-master"], {}),
    ("2026-10-31T09:30:00Z", "api", ["2.1.0-master"], {}),
    ("2026-10-31T10:05:00Z", "worker", ["0.9.0-master"], {}),
    ("2026-10-31T10:20:00Z", "front", ["3.0.0-master"], {}),
    ("2026-10-31T11:00:00Z", "shop/cart", ["1.0.0-master"], {}),
    ("2026-11-02T14:03:00Z", "api", ["2.2.0-develop"], {}),
    ("2026-11-03T16:45:00Z", "api", ["2.2.0-master"], {}),
    ("2026-11-03T17:10:00Z", "web", ["1.4.1-master"], {}),
    ("2026-11-04T23:50:00Z", "worker", ["0.9.1-master"], {}),
    ("2026-11-05T08:00:00Z", "front", ["3.1.0-develop"], {}),
    ("2026-11-06T10:30:00Z", "front", ["3.1.0-master"], {"platforms": [
        ("linux", "amd64", None, "2026-11-06T10:30:00Z"),
        ("linux", "arm64", "v8", "2026-11-06T10:34:00Z")]}),
    # week 2
    ("2026-11-09T00:15:00Z", "web", ["1.5.0-master"], {}),
    ("2026-11-09T09:40:00Z", "shop/cart", ["1.1.0-master"], {"kind": "oci", "annotations": {
        "org.opencontainers.image.created": "2026-11-09T09:40:00Z",
        "org.opencontainers.image.version": "1.1.0"}}),
    ("2026-11-10T13:00:00Z", "api", ["2.3.0-develop"], {}),
    ("2026-11-11T15:20:00Z", "api", ["2.3.0-master"], {}),
    ("2026-11-12T11:00:00Z", "worker", ["1.0.0-master", "1.0.0-develop"], {}),
    ("2026-11-12T23:35:00Z", "front", ["3.2.0-master"], {}),
    ("2026-11-13T10:10:00Z", "web", ["1.5.1-master"], {}),
    # week 3
    ("2026-11-16T09:00:00Z", "api", ["2.4.0-master"], {}),
    ("2026-11-16T09:20:00Z", "web", ["1.6.0-master"], {}),
    ("2026-11-17T14:00:00Z", "shop/cart", ["1.2.0-develop"], {}),
    ("2026-11-18T16:30:00Z", "shop/cart", ["1.2.0-master"], {}),
    ("2026-11-19T10:00:00Z", "worker", ["1.1.0-master"], {}),
    ("2026-11-19T23:55:00Z", "web", ["1.6.1-master"], {}),
    ("2026-11-20T08:45:00Z", "front", ["3.3.0-master"], {}),
    ("2026-11-20T09:30:00Z", "api", ["2.4.1-master"], {}),
]


def labels_for(repo, tags, created):
    """OCI-style labels a CI pipeline would set; the revision is a stable fake SHA."""
    version = tags[0].split("-")[0]
    revision = hashlib.sha1(("%s %s %s" % (repo, version, created)).encode()).hexdigest()
    return {"org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": revision,
            "org.opencontainers.image.source": "https://git.example.com/acme/%s" % repo}


def as_spec(history=HISTORY):
    """The history as a regpush.push_history spec (repos keep chronological order)."""
    repos = {}
    for created, repo, tags, opts in history:
        entry = {"tags": list(tags), "created": created,
                 "labels": labels_for(repo, tags, created)}
        entry.update(opts)
        if "platforms" in entry:
            entry["platforms"] = [list(p) for p in entry["platforms"]]
        repos.setdefault(repo, []).append(entry)
    return {"repos": repos}


def push(client, history=HISTORY):
    """Push entries in chronological order (not repo by repo), like real CI would."""
    digests = []
    for created, repo, tags, opts in history:
        entry = as_spec([(created, repo, tags, opts)])["repos"][repo][0]
        digests.append(client.push_entry(repo, entry))
    return digests


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--registry", required=True, help="base URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--ca-file")
    args = ap.parse_args(argv)
    password = None
    if args.password_file:
        with open(args.password_file) as f:
            password = f.readline().rstrip("\r\n")
    client = RegistryClient(args.registry, args.user, password, args.ca_file)
    try:
        push(client)
    except (RegistryError, RuntimeError, OSError) as e:
        print("sample_history: %s" % e, file=sys.stderr)
        return 1
    ntags = sum(len(tags) for _, _, tags, _ in HISTORY)
    print("sample history: %d releases, %d tags in %d repositories, %s..%s, pushed to %s"
          % (len(HISTORY), ntags, len(REPOS), START, END, args.registry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
