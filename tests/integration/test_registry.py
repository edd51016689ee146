"""The registry client against real servers: auth, TLS, pagination, the
cache, and registries that are missing things or down."""
import base64
import json
import os
import time
import unittest

from faultproxy import FaultProxy
from registry import Registry, free_port
from regpush import RegistryClient
from rwtest import RewindCase, push
from token_server import TokenServer

HISTORY = {
    "web": [("1.0.0-master", "2026-11-01T10:00:00Z"), ("1.1.0-master", "2026-11-02T10:00:00Z")],
    "api": [("2.0.0-master", "2026-11-02T11:00:00Z")],
}


class Pagination(RewindCase):
    """docker-registry 2.8 ignores n= and sends every tag at once, so the
    proxy pages its answer the way the OCI distribution spec (and
    distribution 3) does: n, last and Link: <...>; rel="next"."""

    def test_follows_link_pages_until_the_end(self):
        tags = [("1.0.%d-master" % i, "2026-11-%02dT10:00:00Z" % (i + 1)) for i in range(7)]
        with Registry() as reg, FaultProxy(reg.url, paginate_tags=True) as proxy:
            push(reg.url, {"web": tags})
            doc = self.ok("dates", "--json", "--keep", "0", "--page-size", "2", "--registry", proxy.url,
                          "--repos", "web", "--env", "master").json()
            self.assertEqual(len(doc["dates"]), 7)
            self.assertEqual(proxy.count("GET", r"/v2/web/tags/list"), 4)
            self.assertEqual(proxy.count("GET", r"/v2/web/tags/list\?n=2&last="), 3)

    def test_absolute_link_and_server_side_cap(self):
        tags = [("1.0.%d-master" % i, "2026-11-%02dT10:00:00Z" % (i + 1)) for i in range(5)]
        with Registry() as reg, FaultProxy(reg.url, paginate_tags=2, link_absolute=True) as proxy:
            push(reg.url, {"web": tags})
            doc = self.ok("dates", "--json", "--keep", "0", "--registry", proxy.url,
                          "--repos", "web", "--env", "master").json()
            self.assertEqual(len(doc["dates"]), 5)
            self.assertEqual(proxy.count("GET", r"/tags/list"), 3)


class BasicAuth(RewindCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry(htpasswd={"ci": "s3cret-pw"})
        push(cls.reg.url, HISTORY, user="ci", password="s3cret-pw")

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def args(self):
        return ["dates", "--json", "--registry", self.reg.url, "--repos", "web,api", "--env", "master"]

    def test_password_file(self):
        pw = self.write("pw", "s3cret-pw\n", 0o600)
        doc = self.ok(*self.args(), "--username", "ci", "--password-file", pw).json()
        self.assertEqual(len(doc["dates"]), 2)

    def test_password_from_environment(self):
        doc = self.ok(*self.args(), "--username", "ci", env={"REWIND_REGISTRY_PASSWORD": "s3cret-pw"}).json()
        self.assertEqual(len(doc["dates"]), 2)

    def test_docker_config_json_auths(self):
        os.makedirs(os.path.join(self.home, ".docker"))
        auth = base64.b64encode(b"ci:s3cret-pw").decode()
        with open(os.path.join(self.home, ".docker", "config.json"), "w") as f:
            json.dump({"auths": {"http://%s" % self.reg.host: {"auth": auth}}}, f)
        doc = self.ok(*self.args()).json()
        self.assertEqual(len(doc["dates"]), 2)

    def test_wrong_password_is_an_auth_error_that_never_shows_it(self):
        pw = self.write("pw", "wrong-pw-123\n")
        res = self.fails(5, *self.args(), "-vv", "--username", "ci", "--password-file", pw)
        self.assertIn("HTTP 401", res.err)
        self.assertRegex(res.err, r"repository '(web|api)'")
        self.assertNotIn("wrong-pw-123", res.err + res.out)
        self.assertNotIn(base64.b64encode(b"ci:wrong-pw-123").decode(), res.err + res.out)

    def test_no_credentials_says_how_to_give_them(self):
        res = self.fails(5, *self.args())
        self.assertIn("--password-file", res.err)

    def test_username_without_password_is_a_usage_error(self):
        res = self.fails(2, *self.args(), "--username", "ci")
        self.assertIn("without a password", res.err)

    def test_password_is_never_taken_from_argv(self):
        res = self.fails(2, *self.args(), "--password", "s3cret-pw")
        self.assertIn("unknown option '--password'", res.err)


class BearerAuth(RewindCase):
    def test_token_flow_with_one_token_per_repository(self):
        with TokenServer(users={"ci": "tok-pw"}) as ts, Registry(token=ts) as reg:
            push(reg.url, HISTORY, user="ci", password="tok-pw")
            before = len(ts.requests)
            pw = self.write("pw", "tok-pw")
            doc = self.ok("dates", "--json", "--registry", reg.url, "--repos", "web,api", "--env", "master",
                          "--username", "ci", "--password-file", pw).json()
            self.assertEqual([d["date"] for d in doc["dates"]], ["2026-11-02", "2026-11-01"])
            mine = ts.requests[before:]
            # one token per repository scope, reused for all its requests
            self.assertEqual(sorted(s for r in mine for s in r["scopes"]),
                             ["repository:api:pull", "repository:web:pull"])
            self.assertTrue(all(r["user"] == "ci" for r in mine))

    def test_access_token_field_and_anonymous_pull(self):
        with TokenServer(users={"ci": "tok-pw"}, anonymous=True, only_access_token=True) as ts, \
                Registry(token=ts) as reg:
            push(reg.url, HISTORY, user="ci", password="tok-pw")
            doc = self.ok("dates", "--json", "--registry", reg.url, "--repos", "web", "--env", "master").json()
            self.assertEqual(len(doc["dates"]), 2)

    def test_refused_token_is_an_auth_error(self):
        with TokenServer(users={"ci": "tok-pw"}) as ts, Registry(token=ts) as reg:
            pw = self.write("pw", "not-the-pw")
            res = self.fails(5, "dates", "--registry", reg.url, "--repos", "web", "--env", "master",
                             "--username", "ci", "--password-file", pw)
            self.assertIn("token service", res.err)
            self.assertIn("HTTP 401", res.err)
            self.assertNotIn("not-the-pw", res.err)


class Tls(RewindCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry(tls=True)
        push(cls.reg.url, HISTORY, ca_file=cls.reg.ca_file)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def test_trusted_with_ca_file(self):
        doc = self.ok("dates", "--json", "--registry", self.reg.url, "--repos", "web,api",
                      "--env", "master", "--ca-file", self.reg.ca_file).json()
        self.assertEqual(len(doc["dates"]), 2)

    def test_http2_is_spoken_when_offered(self):
        res = self.ok("dates", "-vv", "--registry", self.reg.url, "--repos", "web,api",
                      "--env", "master", "--ca-file", self.reg.ca_file)
        answers = [l for l in res.err.splitlines() if l.startswith("rewind: <- ")]
        self.assertGreaterEqual(len(answers), 6)
        self.assertTrue(all(" HTTP/2 " in l for l in answers), answers)

    def test_scheme_defaults_to_https(self):
        doc = self.ok("dates", "--json", "--registry", self.reg.host, "--repos", "web",
                      "--env", "master", "--ca-file", self.reg.ca_file).json()
        self.assertEqual(len(doc["dates"]), 2)

    def test_unknown_ca_fails_verification(self):
        res = self.fails(4, "dates", "--registry", self.reg.url, "--repos", "web", "--env", "master")
        self.assertIn("--ca-file", res.err)
        self.assertIn(self.reg.url, res.err)

    def test_insecure_skips_verification_loudly(self):
        res = self.ok("dates", "--registry", self.reg.url, "--repos", "web", "--env", "master", "--insecure")
        self.assertIn("TLS verification", res.err)
        self.assertIn("2026-11-02", res.out)


class CacheAndMutableTags(RewindCase):
    def test_warm_run_fetches_no_config_blob_and_sees_a_moved_tag(self):
        with Registry() as reg, FaultProxy(reg.url) as proxy:
            c = RegistryClient(reg.url)
            push(reg.url, HISTORY)
            args = ["dates", "--json", "--registry", proxy.url, "--repos", "web,api", "--env", "master"]
            cold = self.ok(*args).json()
            self.assertEqual(proxy.count("GET", r"/blobs/"), 3)
            proxy.reset()
            warm = self.ok(*args).json()
            self.assertEqual(warm, cold)
            self.assertEqual(proxy.count("GET", r"/blobs/"), 0)
            self.assertEqual(proxy.count("GET", r"/manifests/"), 0)
            self.assertEqual(proxy.count("HEAD", r"/manifests/"), 3)
            # the tag moves to a new image: the cache must not hide it
            newer = c.push_image("web", [], "2026-11-05T10:00:00Z")
            c.tag("web", "1.1.0-master", newer)
            proxy.reset()
            moved = self.ok(*args).json()
            self.assertEqual(moved["dates"][0]["date"], "2026-11-05")
            self.assertEqual(moved["dates"][0]["changed"][0]["digest"], newer)
            self.assertEqual(proxy.count("GET", r"/blobs/"), 1)

    def test_plain_http_registry_speaks_http1(self):
        with Registry() as reg:
            push(reg.url, HISTORY)
            res = self.ok("dates", "-vv", "--registry", reg.url, "--repos", "web", "--env", "master")
            self.assertIn(" HTTP/1.1 GET %s/v2/web/tags/list" % reg.url, res.err)

    def test_no_cache_reads_and_writes_nothing(self):
        with Registry() as reg:
            push(reg.url, HISTORY)
            self.ok("dates", "--no-cache", "--registry", reg.url, "--repos", "web", "--env", "master")
            self.assertFalse(os.path.exists(self.cache))
            self.ok("dates", "--registry", reg.url, "--repos", "web", "--env", "master")
            self.assertTrue(os.path.exists(os.path.join(self.cache, "rewind", "images-v1")))

    def test_corrupt_cache_is_ignored(self):
        with Registry() as reg:
            push(reg.url, HISTORY)
            d = os.path.join(self.cache, "rewind")
            os.makedirs(d)
            with open(os.path.join(d, "images-v1"), "wb") as f:
                f.write(b"\x00\xff garbage\n\tno key\nsha256:zz\tnope\n")
            doc = self.ok("dates", "--json", "--registry", reg.url, "--repos", "web",
                          "--env", "master").json()
            self.assertEqual(len(doc["dates"]), 2)


class MissingThings(RewindCase):
    def test_repository_that_does_not_exist(self):
        with Registry() as reg:
            push(reg.url, HISTORY)
            res = self.fails(4, "dates", "--registry", reg.url, "--repos", "web,nope", "--env", "master")
            self.assertIn("repository 'nope'", res.err)
            self.assertIn("HTTP 404 NAME_UNKNOWN", res.err)
            self.assertEqual(res.out, "")

    def test_registry_that_is_down(self):
        port = free_port()
        started = time.monotonic()
        res = self.fails(4, "dates", "--registry", "http://127.0.0.1:%d" % port, "--repos", "web",
                         "--retries", "1")
        self.assertIn("127.0.0.1:%d" % port, res.err)
        self.assertIn("onnect", res.err)
        self.assertLess(time.monotonic() - started, 30)

    def test_not_a_registry(self):
        with FaultProxy("http://127.0.0.1:9") as proxy:
            proxy.add_rule("GET", r"^/v2/$", status=404, body=b"not here", count=None)
            res = self.fails(4, "dates", "--registry", proxy.url, "--repos", "web")
            self.assertIn("does not serve the registry API v2", res.err)


if __name__ == "__main__":
    unittest.main()
