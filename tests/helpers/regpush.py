#!/usr/bin/env python3
"""Fill a Docker/OCI registry with synthetic images through the registry HTTP API.

No docker client is involved: blobs are uploaded monolithically
(POST /v2/<name>/blobs/uploads/ then PUT <Location>&digest=...) and
manifests PUT with their media type, as the distribution spec describes
(distribution spec/api.md; OCI distribution-spec "push").

Library:

    c = RegistryClient(url, user=None, password=None, ca_file=None, timeout=30)
    c.push_image(repo, tags, created, kind="docker", labels=None, annotations=None,
                 platform=("linux", "amd64"), layer_bytes=None)  -> Digest
        one image (config blob + one unique gzip'd tar layer + manifest), tagged
        with every tag in `tags` ([] = push by digest only). `created` is an
        RFC 3339 string, or None to leave the field out of the config.
        kind "docker" = schema2 manifest, "oci" = OCI image manifest.
        The returned Digest is a str with .config_digest, .layer_digests,
        .manifest (bytes), .media_type.
    c.push_index(repo, tags, platforms, kind="docker", annotations=None) -> Digest
        platforms = [(os, arch, variant_or_None, created), ...] (or dicts with
        those keys); pushes one untagged image per platform then a docker
        manifest list / OCI index. Digest.children = [(platform_tuple, digest)].
    c.tag(repo, tag, digest)              re-point `tag` at an existing manifest
    c.delete_manifest(repo, reference)    DELETE a manifest (tag resolved first)
    c.get_manifest(repo, reference)       -> (body bytes, media type, digest)
    c.resolve(repo, reference)            -> digest the tag/digest points at
    c.list_tags(repo)                     -> sorted tag names (follows Link pages)
    c.push_history(spec)                  -> {repo: [Digest, ...]} (see below)
    c.push_blob(repo, data)               -> digest (skips upload if present)
    c.put_manifest(repo, reference, body, media_type) -> digest

    history spec (JSON-able), entries pushed in order, so a later entry that
    reuses a tag moves it:
      {"repos": {"web": [
          {"tag": "1.0.0-master", "created": "2026-11-01T10:00:00Z"},
          {"tags": ["1.1.0-master", "latest"], "created": "...", "kind": "oci",
           "labels": {...}, "annotations": {...}, "layer_bytes": 1000},
          {"tags": ["2.0.0-master"], "platforms": [["linux", "arm64", "v8", "..."], ...]},
          {"tag": "stable", "same_as": "1.1.0-master"},   # re-point a tag
          {"delete": "1.0.0-master"}                         # delete that manifest
      ]}}

CLI:
    regpush.py --registry URL [--user U --password-file F] [--ca-file F] [--json] spec.json

Auth: a 401 with "WWW-Authenticate: Basic" is answered with the credentials;
"Bearer realm=..,service=..,scope=.." fetches a token from the realm (with
Basic credentials when we have them) for repository:<name>:pull,push, cached
per scope. Standard library only.
"""

import argparse
import gzip
import hashlib
import http.client
import io
import json
import random
import re
import ssl
import sys
import tarfile
import urllib.parse
from base64 import b64encode

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST, SCHEMA1_SIGNED])
TYPES = {
    "docker": (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST),
    "oci": (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, OCI_INDEX),
}
MAX_PAGES = 1000   # bound for following tag-list Link headers
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class RegistryError(Exception):
    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> %s: %s" % (method, url, status, body[:500].decode(errors="replace")))
        self.status = status
        self.body = body


class Digest(str):
    """A digest string that also carries what was pushed with it."""
    config_digest = None
    layer_digests = ()
    manifest = b""
    media_type = None
    children = ()


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(doc):
    """Stable, compact JSON: the digest of the same document is always the same."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def parse_challenge(value):
    """Split a WWW-Authenticate value into (scheme, {param: value})."""
    scheme, _, rest = value.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)\s*=\s*"([^"]*)"', rest)}
    # Unquoted parameters (allowed by RFC 7235) too.
    for k, v in re.findall(r'(\w+)\s*=\s*([^",\s]+)', rest):
        params.setdefault(k.lower(), v)
    return scheme.lower(), params


def merge_scopes(ours, challenge):
    """Union of the actions of two "type:name:a,b" scopes on the same resource."""
    if not ours or not challenge:
        return ours or challenge
    base, _, acts = ours.rpartition(":")
    cbase, _, cacts = challenge.rpartition(":")
    if base != cbase:
        return ours
    actions = acts.split(",")
    actions += [a for a in cacts.split(",") if a and a not in actions]
    return "%s:%s" % (base, ",".join(actions))


def make_layer(content):
    """A gzip'd tar with one file; returns (compressed bytes, diff_id).

    mtime/uid/gid are fixed so the same content always gives the same digest,
    and different content (we include repo, tag, created) different digests.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("etc/rewind-release.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(tar_bytes)
    return gz.getvalue(), sha256_digest(tar_bytes)


def layer_content(repo, tags, created, platform, layer_bytes):
    text = "repo=%s\ntags=%s\ncreated=%s\nplatform=%s\n" % (
        repo, ",".join(tags), created, "/".join(p for p in platform if p))
    content = text.encode()
    if isinstance(layer_bytes, (bytes, bytearray)):
        content += bytes(layer_bytes)
    elif layer_bytes:
        # Pseudo-random (incompressible) but reproducible filler of that size.
        rng = random.Random(content)
        content += bytes(rng.getrandbits(8) for _ in range(int(layer_bytes)))
    return content


def image_config(created, platform, labels, diff_id):
    """A realistic image config (what `docker build` would produce, trimmed)."""
    os_name, arch = platform[0], platform[1]
    variant = platform[2] if len(platform) > 2 else None
    history = {"created_by": "/bin/sh -c #(nop) ADD file:rewind-release.txt in /etc/"}
    cfg = {
        "architecture": arch,
        "os": os_name,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "Labels": dict(labels or {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [history],
    }
    if variant:
        cfg["variant"] = variant
    if created is not None:
        cfg["created"] = created
        history["created"] = created
    return cfg


def normalize_platform(p):
    """(os, arch[, variant[, created]]) or dict -> (os, arch, variant, created)."""
    if isinstance(p, dict):
        return (p["os"], p["architecture"] if "architecture" in p else p["arch"],
                p.get("variant"), p.get("created"))
    p = list(p) + [None] * (4 - len(p))
    return tuple(p[:4])


class RegistryClient:
    """Minimal registry API client for filling test registries. See module docstring."""

    def __init__(self, url, user=None, password=None, ca_file=None, timeout=30):
        self.base = url.rstrip("/")
        self.user = user
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self._tokens = {}          # scope -> bearer token
        self._basic = False        # the registry asked for Basic auth once

    # --- HTTP plumbing ---------------------------------------------------------

    def _raw(self, method, url, body=None, headers=None):
        """One HTTP exchange; returns (status, headers(dict, lower-case keys), body)."""
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=self.timeout,
                                               context=self.ssl_context or ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=self.timeout)
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        try:
            hdrs = dict(headers or {})
            if body is not None:
                hdrs.setdefault("Content-Length", str(len(body)))
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def _basic_header(self):
        return "Basic " + b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()

    def _fetch_token(self, params, scope):
        realm = params.get("realm")
        if not realm:
            raise RuntimeError("Bearer challenge without realm: %r" % params)
        query = {"service": params.get("service", "")}
        if scope:
            query["scope"] = scope
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {"Authorization": self._basic_header()} if self.user is not None else {}
        status, _, body = self._raw("GET", url, headers=headers)
        if status != 200:
            raise RegistryError("GET", url, status, body)
        doc = json.loads(body)
        token = doc.get("token") or doc.get("access_token")
        if not token:
            raise RuntimeError("token response without token: %r" % doc)
        return token

    def request(self, method, url, body=None, headers=None, repo=None, ok=(200,)):
        """Send a request, answering one auth challenge; raise unless status in `ok`."""
        if not url.startswith(("http://", "https://")):
            url = self.base + url
        scope = "repository:%s:pull,push" % repo if repo else None
        headers = dict(headers or {})
        for attempt in range(2):     # at most: try, authenticate, retry
            hdrs = dict(headers)
            if scope in self._tokens:
                hdrs["Authorization"] = "Bearer " + self._tokens[scope]
            elif self._basic and self.user is not None:
                hdrs["Authorization"] = self._basic_header()
            status, rh, data = self._raw(method, url, body, hdrs)
            if status != 401 or attempt == 1:
                break
            kind, params = parse_challenge(rh.get("www-authenticate", ""))
            if kind == "basic" and self.user is not None:
                self._basic = True
            elif kind == "bearer":
                # Ask for our own scope (pull+push) rather than the challenge's,
                # so one token serves both the GETs and PUTs of a repository;
                # widen it when the challenge wants more (DELETE needs "delete").
                key = scope or params.get("scope")
                wanted = merge_scopes(key, params.get("scope"))
                self._tokens[key] = self._fetch_token(params, wanted)
                scope = key
            else:
                break
        if status in REDIRECTS and method in ("GET", "HEAD") and status not in ok:
            return self._follow(method, url, rh, hdrs, ok)
        if status not in ok:
            raise RegistryError(method, url, status, data)
        return status, rh, data

    def _follow(self, method, url, rh, headers, ok):
        """Follow GET/HEAD redirects (blob storage behind the registry), bounded.

        The registry's credentials are not sent to another host: pre-signed
        object-store URLs carry their own authorization.
        """
        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS):
            url = urllib.parse.urljoin(url, rh["location"])
            hdrs = dict(headers)
            if urllib.parse.urlsplit(url).netloc != origin:
                hdrs.pop("Authorization", None)
            status, rh, data = self._raw(method, url, None, hdrs)
            if status not in REDIRECTS or "location" not in rh:
                break
        if status not in ok:
            raise RegistryError(method, url, status, data)
        return status, rh, data

    # --- blobs and manifests -----------------------------------------------------

    def blob_exists(self, repo, digest):
        status, _, _ = self.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest),
                                    repo=repo, ok=(200, 404))
        return status == 200

    def push_blob(self, repo, data):
        """Monolithic upload: POST to start a session, PUT the bytes with ?digest=."""
        digest = sha256_digest(data)
        if self.blob_exists(repo, digest):
            return digest
        _, rh, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo, body=b"",
                                repo=repo, ok=(202,))
        location = rh.get("location")
        if not location:
            raise RuntimeError("upload POST without Location header")
        # Location may be relative or absolute, and usually carries a query
        # (the upload state token), so append the digest with the right separator.
        location = urllib.parse.urljoin(self.base + "/", location)
        sep = "&" if urllib.parse.urlsplit(location).query else "?"
        url = location + sep + urllib.parse.urlencode({"digest": digest})
        self.request("PUT", url, body=data, repo=repo, ok=(201,),
                     headers={"Content-Type": "application/octet-stream"})
        return digest

    def put_manifest(self, repo, reference, body, media_type):
        _, rh, _ = self.request("PUT", "/v2/%s/manifests/%s" % (repo, reference), body=body,
                                headers={"Content-Type": media_type}, repo=repo, ok=(201,))
        returned = rh.get("docker-content-digest")
        if media_type == SCHEMA1_SIGNED:
            # A signed schema1 manifest's digest covers the payload without
            # its "signatures" (JWS), so only the registry can tell it.
            return returned
        digest = sha256_digest(body)
        if returned and returned != digest:
            raise RuntimeError("registry computed digest %s, expected %s" % (returned, digest))
        return digest

    def get_manifest(self, repo, reference):
        _, rh, body = self.request("GET", "/v2/%s/manifests/%s" % (repo, reference),
                                   headers={"Accept": MANIFEST_ACCEPT}, repo=repo)
        media_type = rh.get("content-type", "").split(";")[0].strip()
        return body, media_type, rh.get("docker-content-digest") or sha256_digest(body)

    def resolve(self, repo, reference):
        return self.get_manifest(repo, reference)[2]

    def tag(self, repo, tag, digest):
        """Point `tag` at the existing manifest `digest` (simulates a moved tag)."""
        body, media_type, _ = self.get_manifest(repo, digest)
        return self.put_manifest(repo, tag, body, media_type)

    def delete_manifest(self, repo, reference):
        """Delete a manifest by digest (a tag is resolved first: the registry
        only deletes by digest, which removes every tag pointing at it)."""
        digest = reference if reference.startswith("sha256:") else self.resolve(repo, reference)
        self.request("DELETE", "/v2/%s/manifests/%s" % (repo, digest), repo=repo, ok=(202,))
        return digest

    def list_tags(self, repo, page_size=None):
        """All tags, following RFC 5988 Link headers if the registry paginates."""
        url = "/v2/%s/tags/list" % repo + ("?n=%d" % page_size if page_size else "")
        tags = []
        for _ in range(MAX_PAGES):
            _, rh, body = self.request("GET", url, repo=repo)
            tags.extend(json.loads(body).get("tags") or [])
            m = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", rh.get("link", ""))
            if not m:
                return tags
            url = urllib.parse.urljoin(self.base + "/", m.group(1))
        raise RuntimeError("tag list of %s did not end after %d pages" % (repo, MAX_PAGES))

    # --- images ------------------------------------------------------------------

    def push_image(self, repo, tags, created, kind="docker", labels=None, annotations=None,
                   platform=("linux", "amd64"), layer_bytes=None):
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        manifest_type, config_type, layer_type, _ = TYPES[kind]
        layer, diff_id = make_layer(layer_content(repo, tags, created, platform, layer_bytes))
        config = canonical_json(image_config(created, platform, labels, diff_id))
        config_digest = self.push_blob(repo, config)
        layer_digest = self.push_blob(repo, layer)
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "size": len(config), "digest": config_digest},
            "layers": [{"mediaType": layer_type, "size": len(layer), "digest": layer_digest}],
        }
        if annotations:
            manifest["annotations"] = dict(annotations)   # OCI field; docker ignores it
        body = canonical_json(manifest)
        digest = self._put_tagged(repo, tags, body, manifest_type)
        d = Digest(digest)
        d.config_digest, d.layer_digests = config_digest, (layer_digest,)
        d.manifest, d.media_type = body, manifest_type
        return d

    def push_index(self, repo, tags, platforms, kind="docker", annotations=None, labels=None):
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        _, _, _, index_type = TYPES[kind]
        entries, children = [], []
        for p in platforms:
            os_name, arch, variant, created = normalize_platform(p)
            child = self.push_image(repo, [], created, kind=kind, labels=labels,
                                    platform=(os_name, arch, variant),
                                    layer_bytes=",".join(tags).encode())
            plat = {"architecture": arch, "os": os_name}
            if variant:
                plat["variant"] = variant
            entries.append({"mediaType": child.media_type, "size": len(child.manifest),
                            "digest": str(child), "platform": plat})
            children.append(((os_name, arch, variant, created), child))
        index = {"schemaVersion": 2, "mediaType": index_type, "manifests": entries}
        if annotations:
            index["annotations"] = dict(annotations)
        body = canonical_json(index)
        d = Digest(self._put_tagged(repo, tags, body, index_type))
        d.manifest, d.media_type, d.children = body, index_type, tuple(children)
        return d

    def push_schema1(self, repo, tags, created, labels=None, platform=("linux", "amd64")):
        """Push a signed schema1 manifest under `tags`; returns its digest.

        Needs Registry(schema1=True): docker-registry 2.8 refuses schema1 PUTs
        otherwise. Signing schema1 (libtrust JWS) by hand is not worth it, so
        let the registry do it: push a schema2 image under the first tag, GET
        it by tag accepting only schema1 (2.8 converts and signs with its own
        key), delete the schema2 manifest, and PUT the schema1 one back.
        """
        tags = [tags] if isinstance(tags, str) else list(tags)
        d2 = self.push_image(repo, tags[:1], created, labels=labels, platform=platform)
        _, rh, body = self.request("GET", "/v2/%s/manifests/%s" % (repo, tags[0]),
                                   headers={"Accept": SCHEMA1_SIGNED}, repo=repo)
        if not rh.get("content-type", "").startswith(SCHEMA1_SIGNED):
            raise RuntimeError("registry did not convert to schema1: %s" % rh.get("content-type"))
        self.delete_manifest(repo, d2)
        digest = None
        for t in tags:
            digest = self.put_manifest(repo, t, body, SCHEMA1_SIGNED)
        d = Digest(digest)
        d.manifest, d.media_type = body, SCHEMA1_SIGNED
        d.config_digest, d.layer_digests = None, d2.layer_digests
        return d

    def _put_tagged(self, repo, tags, body, media_type):
        """PUT the manifest under each tag, or by digest when there is no tag."""
        digest = sha256_digest(body)
        for ref in tags or [digest]:
            self.put_manifest(repo, ref, body, media_type)
        return digest

    # --- whole histories -----------------------------------------------------------

    def push_entry(self, repo, entry):
        """Push one history entry (see module docstring); returns its Digest."""
        if "delete" in entry:
            return Digest(self.delete_manifest(repo, entry["delete"]))
        tags = entry.get("tags") or ([entry["tag"]] if "tag" in entry else [])
        if "same_as" in entry:
            digest = self.resolve(repo, entry["same_as"])
            for t in tags:
                self.tag(repo, t, digest)
            return Digest(digest)
        if entry.get("kind") == "schema1":
            return self.push_schema1(repo, tags, entry.get("created"), labels=entry.get("labels"))
        if entry.get("platforms"):
            return self.push_index(repo, tags, entry["platforms"], kind=entry.get("kind", "docker"),
                                   annotations=entry.get("annotations"), labels=entry.get("labels"))
        return self.push_image(repo, tags, entry.get("created"), kind=entry.get("kind", "docker"),
                               labels=entry.get("labels"), annotations=entry.get("annotations"),
                               platform=tuple(entry.get("platform", ("linux", "amd64"))),
                               layer_bytes=entry.get("layer_bytes"))

    def push_history(self, spec):
        result = {}
        for repo, entries in spec["repos"].items():
            result[repo] = [self.push_entry(repo, e) for e in entries]
        return result


def main(argv=None):
    ap = argparse.ArgumentParser(description="Push a synthetic release history to a registry.")
    ap.add_argument("--registry", required=True, help="base URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--user")
    ap.add_argument("--password-file", help="file whose first line is the password")
    ap.add_argument("--ca-file", help="CA bundle to trust for https")
    ap.add_argument("--json", action="store_true", help="print {repo: [digest, ...]} as JSON")
    ap.add_argument("spec", help="history spec JSON file (see module docstring), - for stdin")
    args = ap.parse_args(argv)
    password = None
    if args.password_file:
        with open(args.password_file) as f:
            password = f.readline().rstrip("\r\n")
    with (sys.stdin if args.spec == "-" else open(args.spec)) as f:
        spec = json.load(f)
    client = RegistryClient(args.registry, args.user, password, args.ca_file)
    try:
        result = client.push_history(spec)
    except (RegistryError, RuntimeError, OSError) as e:
        print("regpush: %s" % e, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({r: [str(d) for d in ds] for r, ds in result.items()}, indent=1))
    else:
        print("pushed %d entries in %d repositories to %s"
              % (sum(len(v) for v in result.values()), len(result), args.registry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
