"""A registry that misbehaves: the real registry behind faultproxy.py,
which injects what real registries and networks do on bad days."""
import json
import time
import unittest

from faultproxy import FaultProxy
from registry import Registry
from rwtest import RewindCase, push

HISTORY = {
    "web": [("1.0.0-master", "2026-11-01T10:00:00Z"), ("1.1.0-master", "2026-11-02T10:00:00Z")],
    "api": [("2.0.0-master", "2026-11-02T11:00:00Z")],
}


class Faults(RewindCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()
        push(cls.reg.url, HISTORY)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def setUp(self):
        super().setUp()
        self.proxy = FaultProxy(self.reg.url)
        self.addCleanup(self.proxy.stop)

    def dates(self, *extra, code=0):
        args = ["dates", "--json", "--registry", self.proxy.url, "--repos", "web,api", "--env", "master"] + list(extra)
        if code:
            return self.fails(code, *args)
        return self.ok(*args)

    def test_429_with_retry_after_is_waited_for(self):
        rule = self.proxy.add_rule("GET", r"/v2/web/tags/list", status=429, headers={"Retry-After": "1"},
                                   body=b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')
        started = time.monotonic()
        doc = self.dates().json()
        self.assertEqual(rule.hits, 1)
        self.assertEqual(len(doc["dates"]), 2)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)

    def test_5xx_is_retried_then_succeeds(self):
        rule = self.proxy.add_rule("GET", r"/blobs/", status=503, count=2)
        doc = self.dates().json()
        self.assertEqual(rule.hits, 2)
        self.assertEqual(len(doc["dates"]), 2)

    def test_persistent_5xx_fails_after_bounded_retries(self):
        rule = self.proxy.add_rule("GET", r"/v2/api/tags/list", status=500, count=None,
                                   body=b'{"errors":[{"code":"UNKNOWN","message":"storage on fire"}]}')
        res = self.dates("--retries", "2", code=4)
        self.assertEqual(rule.hits, 3)
        self.assertIn("repository 'api'", res.err)
        self.assertIn("HTTP 500 UNKNOWN: storage on fire", res.err)
        self.assertEqual(res.out, "")

    def test_retry_after_beyond_what_we_wait_is_not_waited(self):
        self.proxy.add_rule("GET", r"/v2/web/tags/list", status=429, headers={"Retry-After": "3600"}, count=None)
        started = time.monotonic()
        res = self.dates(code=4)
        self.assertIn("HTTP 429", res.err)
        self.assertLess(time.monotonic() - started, 20)

    def test_dropped_connection_is_retried(self):
        rule = self.proxy.add_rule("GET", r"/manifests/", drop=True, count=1)
        doc = self.dates().json()
        self.assertEqual(rule.hits, 1)
        self.assertEqual(len(doc["dates"]), 2)

    def test_corrupt_blob_is_refused(self):
        self.proxy.add_rule("GET", r"/blobs/", corrupt=True, count=None)
        res = self.dates(code=4)
        self.assertIn("does not match its content", res.err)

    def test_corrupt_manifest_is_refused(self):
        self.proxy.add_rule("GET", r"/v2/web/manifests/", corrupt=True, count=None)
        res = self.dates(code=4)
        self.assertIn("repository 'web'", res.err)

    def test_oversized_manifest_is_refused_without_reading_it_all(self):
        self.proxy.add_rule("GET", r"/v2/web/manifests/", garbage=6 * 1024 * 1024, count=None)
        res = self.dates(code=4)
        self.assertIn("larger than the 4194304-byte limit", res.err)

    def test_garbage_tag_list_is_a_clear_error(self):
        self.proxy.add_rule("GET", r"/v2/web/tags/list", status=200, body=b"<html>oops</html>", count=None)
        res = self.dates(code=4)
        self.assertIn("the tag list is not a JSON object", res.err)

    def test_blob_redirect_is_followed_without_our_credentials(self):
        rule = self.proxy.add_rule("GET", r"/blobs/", redirect=307, count=None)
        doc = self.dates().json()
        self.assertEqual(rule.hits, 3)
        self.assertEqual(len(doc["dates"]), 2)
        redirected = [r for r in self.proxy.requests if r["server"] != "proxy"]
        self.assertEqual(len(redirected), 3)
        self.assertTrue(all(r["status"] == 200 for r in redirected), redirected)

    def test_stalled_transfer_times_out(self):
        self.proxy.add_rule("GET", r"/blobs/", stall=20, count=None)
        started = time.monotonic()
        res = self.dates("--stall-timeout", "1", "--retries", "0", code=4)
        self.assertIn("timed out", res.err)
        self.assertLess(time.monotonic() - started, 15)

    def test_tag_deleted_while_listing_is_skipped_with_a_warning(self):
        self.proxy.add_rule("GET", r"/v2/web/manifests/1.0.0-master", status=404, count=None,
                            body=b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        res = self.dates()
        self.assertIn("tag '1.0.0-master' disappeared", res.err)
        self.assertEqual([d["date"] for d in res.json()["dates"]], ["2026-11-02"])

    def test_endless_tag_list_is_refused(self):
        page = json.dumps({"name": "web", "tags": ["t%06d" % i for i in range(50000)]}).encode()
        rule = self.proxy.add_rule("GET", r"/v2/web/tags/list", status=200, count=None, body=page,
                                   headers={"Link": '</v2/web/tags/list?n=50000&last=x>; rel="next"',
                                            "Content-Type": "application/json"})
        res = self.dates(code=4)
        self.assertIn("lists more than 250000 tags", res.err)
        self.assertEqual(rule.hits, 6)

    def test_link_to_another_host_is_refused(self):
        self.proxy.add_rule("GET", r"/v2/web/tags/list", status=200, count=None,
                            headers={"Link": '<http://198.51.100.7/v2/web/tags/list?last=x>; rel="next"',
                                     "Content-Type": "application/json"},
                            body=b'{"name":"web","tags":["1.0.0-master"]}')
        res = self.dates(code=4)
        self.assertIn("refusing the next page", res.err)


if __name__ == "__main__":
    unittest.main()
