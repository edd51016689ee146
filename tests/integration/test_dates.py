"""rewind dates / plan / get against the real registry (Debian's docker-registry)."""
import json
import os
import unittest

from registry import Registry
from regpush import RegistryClient
from rwtest import EXAMPLE, EXAMPLE_REPOS, RewindCase, push


class ExampleRelease(RewindCase):
    """The issue's example: four services, gap filling on 2026-11-19."""

    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()
        cls.digests = push(cls.reg.url, EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def common(self):
        return ["--registry", self.reg.url, "--repos", EXAMPLE_REPOS, "--env", "master"]

    def test_dates_lists_release_days_newest_first(self):
        res = self.ok("dates", *self.common())
        lines = res.out.splitlines()
        self.assertEqual(lines[0], "2026-11-20  web 1.8.0-master, api 2.3.1-master")
        self.assertEqual(lines[1], "2026-11-19  front 0.9.4-master")
        self.assertEqual(lines[2], "2026-11-17  web 1.7.9-master, api 2.3.0-master, worker 3.0.2-master")
        self.assertTrue(lines[3].startswith("2026-11-12  front 0.9.3-master  (incomplete: no image yet for web, api"), lines[3])
        self.assertEqual(len(lines), 5)
        self.assertNotIn("develop", res.out)

    def test_dates_json_shape(self):
        doc = self.ok("dates", "--json", *self.common()).json()
        self.assertEqual(doc["env"], "master")
        self.assertEqual(doc["repos"], ["web", "api", "worker", "front"])
        self.assertEqual([d["date"] for d in doc["dates"]],
                         ["2026-11-20", "2026-11-19", "2026-11-17", "2026-11-12", "2026-11-10"])
        self.assertEqual([d["complete"] for d in doc["dates"]], [True, True, True, False, False])
        web = doc["dates"][0]["changed"][0]
        self.assertEqual(web, {"repo": "web", "tag": "1.8.0-master",
                               "digest": self.digests[("web", "1.8.0-master")],
                               "created": "2026-11-20T09:00:00Z"})

    def test_plan_fills_gaps_with_older_images(self):
        res = self.ok("plan", "--date", "2026-11-19", *self.common())
        self.assertEqual(res.out.splitlines(), [
            "web     1.7.9-master  2026-11-17  (older: no release on 2026-11-19)",
            "api     2.3.0-master  2026-11-17  (older)",
            "worker  3.0.2-master  2026-11-17  (older)",
            "front   0.9.4-master  2026-11-19",
        ])

    def test_plan_json_shape(self):
        doc = self.ok("plan", "--json", "--date=2026-11-19", *self.common()).json()
        self.assertEqual(doc["date"], "2026-11-19")
        self.assertEqual(doc["env"], "master")
        self.assertTrue(doc["complete"])
        self.assertEqual(doc["missing"], [])
        by_repo = {i["repo"]: i for i in doc["images"]}
        self.assertEqual(by_repo["front"]["same_day"], True)
        self.assertEqual(by_repo["web"]["same_day"], False)
        self.assertEqual(by_repo["worker"]["digest"], self.digests[("worker", "3.0.2-master")])
        self.assertEqual(by_repo["worker"]["created"], "2026-11-17T11:00:00Z")

    def test_plan_of_a_date_no_one_offered_still_works(self):
        doc = self.ok("plan", "--json", "--date", "2026-11-18", *self.common()).json()
        self.assertEqual([i["tag"] for i in doc["images"]],
                         ["1.7.9-master", "2.3.0-master", "3.0.2-master", "0.9.3-master"])

    def test_plan_incomplete_date_fails_naming_repositories(self):
        res = self.fails(6, "plan", "--date", "2026-11-11", *self.common())
        self.assertIn("no image on or before that day for web, api", res.err)
        self.assertIn("--allow-partial", res.err)
        self.assertEqual(res.out, "")

    def test_plan_allow_partial(self):
        doc = self.ok("plan", "--json", "--allow-partial", "--date", "2026-11-12", *self.common()).json()
        self.assertFalse(doc["complete"])
        self.assertEqual(doc["missing"], ["web", "api"])
        self.assertEqual([i["repo"] for i in doc["images"]], ["worker", "front"])

    def test_keep_limits_the_dates_offered_not_the_gap_filling(self):
        doc = self.ok("dates", "--json", "--keep", "1", *self.common()).json()
        self.assertEqual([d["date"] for d in doc["dates"]], ["2026-11-20", "2026-11-19", "2026-11-17"])
        plan = self.ok("plan", "--json", "--keep", "1", "--date", "2026-11-12", "--allow-partial", *self.common()).json()
        self.assertEqual({i["repo"]: i["tag"] for i in plan["images"]},
                         {"worker": "3.0.1-master", "front": "0.9.3-master"})

    def test_env_develop_sees_other_tags(self):
        doc = self.ok("dates", "--json", "--registry", self.reg.url, "--repos", "web", "--env", "develop").json()
        self.assertEqual([d["date"] for d in doc["dates"]], ["2026-11-21"])

    def test_tag_pattern_instead_of_suffix(self):
        doc = self.ok("dates", "--json", "--registry", self.reg.url, "--repos", "web",
                      "--tag-pattern", r"^1\.8\.[0-9]+-").json()
        self.assertEqual([d["changed"][0]["tag"] for d in doc["dates"]], ["1.8.1-develop", "1.8.0-master"])

    def test_timezone_moves_images_to_another_day(self):
        # Kiritimati is UTC+14: front 0.9.4 (19th 12:00Z) is built on the 20th
        # there, api 2.3.1 (20th 10:00Z) on the 21st, web 1.8.0 (20th 09:00Z)
        # stays on the 20th at 23:00.
        doc = self.ok("dates", "--json", "--timezone", "Pacific/Kiritimati", *self.common()).json()
        days = {d["date"]: [c["repo"] for c in d["changed"]] for d in doc["dates"]}
        self.assertEqual(days["2026-11-21"], ["api"])
        self.assertEqual(days["2026-11-20"], ["web", "front"])
        self.assertNotIn("2026-11-19", days)
        self.assertEqual(doc["timezone"], "Pacific/Kiritimati")

    def test_get_writes_rollback_json_in_the_script_shape(self):
        dump = os.path.join(self.tmp, "out")
        self.ok("get", "--repo=" + EXAMPLE_REPOS, "--env=master", "--dump=" + dump, "--registry", self.reg.url)
        with open(os.path.join(dump, "rollback.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["all"], ["web", "api", "worker", "front"])
        self.assertEqual(list(doc["rollbacks"].keys()),
                         ["2026-11-20", "2026-11-19", "2026-11-17", "2026-11-12", "2026-11-10"])
        self.assertEqual(doc["rollbacks"]["2026-11-19"], [{"0.9.4-master": "front"}])
        self.assertEqual(doc["rollbacks"]["2026-11-20"], [{"1.8.0-master": "web"}, {"2.3.1-master": "api"}])

    def test_dates_dump_and_stdout_agree(self):
        dump = os.path.join(self.tmp, "d")
        res = self.ok("dates", "--dump", dump, *self.common())
        with open(os.path.join(dump, "rollback.json")) as f:
            doc = json.load(f)
        self.assertEqual([l.split()[0] for l in res.out.splitlines()], list(doc["rollbacks"].keys()))


class ImageKinds(RewindCase):
    """OCI manifests, multi-arch indexes, tags sharing a digest, undated images."""

    @classmethod
    def setUpClass(cls):
        cls.reg = Registry(schema1=True)
        c = RegistryClient(cls.reg.url)
        cls.c = c
        cls.oci = c.push_image("oci", ["1.0.0-master"], "2026-11-03T10:00:00Z", kind="oci")
        cls.index = c.push_index("multi", ["2.0.0-master"], [
            ("linux", "amd64", None, "2026-11-05T10:00:00Z"),
            ("linux", "arm64", "v8", "2026-11-06T10:00:00Z")])
        cls.ociindex = c.push_index("multi", ["2.1.0-master"], [
            ("linux", "amd64", None, "2026-11-07T10:00:00Z")], kind="oci")
        cls.shared = c.push_image("shared", ["1.9.0-master", "1.10.0-master"], "2026-11-08T10:00:00Z")
        c.push_image("undated", ["0.1.0-master"], None)
        c.push_image("undated", ["0.2.0-master"], "1970-01-01T00:00:00Z")
        c.push_image("undated", ["0.3.0-master"], "1970-01-01T00:00:00Z",
                     labels={"org.opencontainers.image.created": "2026-11-09T10:00:00Z"})
        c.push_image("undated", ["0.4.0-master"], None, kind="oci",
                     annotations={"org.opencontainers.image.created": "2026-11-10T10:00:00Z"})
        cls.schema1 = c.push_schema1("old", ["0.0.1-master"], "2026-11-01T10:00:00Z")

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def dates(self, repos, *extra):
        return self.ok("dates", "--json", "--registry", self.reg.url, "--repos", repos,
                       "--env", "master", *extra).json()

    def test_oci_manifest(self):
        doc = self.dates("oci")
        self.assertEqual(doc["dates"][0]["changed"][0]["digest"], self.oci)
        self.assertEqual(doc["dates"][0]["date"], "2026-11-03")

    def test_index_reports_its_own_digest_and_the_platform_date(self):
        doc = self.dates("multi", "--keep", "0")
        changed = {d["date"]: d["changed"][0] for d in doc["dates"]}
        self.assertEqual(changed["2026-11-05"]["digest"], self.index)
        self.assertEqual(changed["2026-11-07"]["digest"], self.ociindex)
        arm = self.dates("multi", "--platform", "linux/arm64")
        self.assertEqual([d["date"] for d in arm["dates"]], ["2026-11-06"])
        self.assertEqual(arm["dates"][0]["changed"][0]["digest"], self.index)

    def test_index_without_the_platform_is_undated_with_a_warning(self):
        res = self.ok("dates", "--json", "--registry", self.reg.url, "--repos", "multi",
                      "--env", "master", "--platform", "linux/s390x")
        self.assertEqual(res.json()["dates"], [])
        self.assertIn("no image for platform linux/s390x", res.err)
        self.assertEqual(len(res.json()["undated"]), 2)

    def test_tags_on_one_digest_are_one_image_under_the_version_last_tag(self):
        doc = self.dates("shared")
        self.assertEqual(doc["dates"][0]["changed"], [{
            "repo": "shared", "tag": "1.10.0-master", "digest": self.shared,
            "created": "2026-11-08T10:00:00Z"}])

    def test_undated_and_fallback_creation_times(self):
        res = self.ok("dates", "--json", "--keep", "0", "--registry", self.reg.url,
                      "--repos", "undated", "--env", "master")
        doc = res.json()
        self.assertEqual([(d["date"], d["changed"][0]["tag"]) for d in doc["dates"]],
                         [("2026-11-10", "0.4.0-master"), ("2026-11-09", "0.3.0-master")])
        self.assertEqual(sorted(u["tag"] for u in doc["undated"]), ["0.1.0-master", "0.2.0-master"])
        self.assertIn("undated:0.1.0-master", res.err)
        self.assertIn("has no creation time", res.err)

    def test_quiet_silences_warnings(self):
        res = self.ok("dates", "-q", "--registry", self.reg.url, "--repos", "undated", "--env", "master")
        self.assertEqual(res.err, "")
        self.assertIn("2026-11-10", res.out)

    def test_schema1_created_from_history(self):
        doc = self.dates("old")
        self.assertEqual(doc["dates"][0]["date"], "2026-11-01")
        self.assertEqual(doc["dates"][0]["changed"][0]["tag"], "0.0.1-master")


if __name__ == "__main__":
    unittest.main()
