"""The command line contract: help, version, options from the command line,
the environment and the configuration file, and bad input."""
import unittest

from registry import Registry
from rwtest import EXAMPLE, EXAMPLE_REPOS, RewindCase, push


class Help(RewindCase):
    def test_global_help_lists_every_command(self):
        res = self.ok("--help")
        for cmd in ("dates", "plan", "get"):
            self.assertIn("  %s " % cmd, res.out)

    def test_every_command_has_help(self):
        for cmd, must in (("dates", "--keep"), ("plan", "--date"), ("get", "--repo")):
            res = self.ok(cmd, "--help")
            self.assertTrue(res.out.startswith("usage: rewind %s" % cmd), res.out)
            self.assertIn(must, res.out)
            self.assertIn("--config FILE", res.out)
        self.assertNotIn("--date", self.ok("dates", "-h").out)

    def test_version(self):
        self.assertRegex(self.ok("--version").out, r"^rewind \d+\.\d+\.\d+\n$")

    def test_no_command_is_a_usage_error(self):
        res = self.rewind()
        self.assertEqual(res.code, 2)
        self.assertIn("usage:", res.err)


class BadInput(RewindCase):
    def bad(self, code, *args, expect):
        res = self.fails(code, *args)
        self.assertIn(expect, res.err)
        self.assertEqual(res.out, "")
        self.assertEqual(len(res.err.strip().splitlines()), 1, res.err)

    def test_usage_errors(self):
        base = ["--registry", "http://127.0.0.1:9", "--repos", "web"]
        self.bad(2, "frobnicate", expect="unknown command 'frobnicate'")
        self.bad(2, "dates", "--kep", "3", *base, expect="unknown option '--kep'")
        self.bad(2, "dates", "--keep", "many", *base, expect="invalid value 'many' for keep")
        self.bad(2, "dates", "--keep", expect="needs a value")
        self.bad(2, "dates", "stray", *base, expect="unexpected argument 'stray'")
        self.bad(2, "plan", *base, expect="plan needs --date")
        self.bad(2, "plan", "--date", "2026-02-30", *base, expect="invalid date '2026-02-30'")
        self.bad(2, "dates", "--timezone", "Mars/Olympus", *base, expect="unknown time zone 'Mars/Olympus'")
        self.bad(2, "dates", "--platform", "amd64", *base, expect="invalid platform 'amd64'")
        self.bad(2, "dates", "--tag-pattern", "([", *base, expect="invalid --tag-pattern")
        self.bad(2, "dates", "--registry", "ftp://x", "--repos", "web", expect="only http:// and https://")
        self.bad(2, "dates", "--registry", "http://x", expect="no repositories given")
        self.bad(2, "dates", "--repos", "web", expect="no registry given")
        self.bad(2, "dates", "--registry", "http://x", "--repos", "Web", expect="invalid repository name 'Web'")
        self.bad(2, "dates", "--registry", "http://x", "--repos", "web,web", expect="given twice")
        self.bad(2, "dates", "--concurrency", "0", *base, expect="--concurrency must be between")
        res = self.fails(2, "dates", "--registry", "https://bob:s3cret@r.example", "--repos", "web")
        self.assertIn("--registry: credentials in the URL are refused", res.err)
        self.assertNotIn("s3cret", res.err)
        self.bad(2, "plan", "--date", "2026-11-19", *base, "--marathon-url", "https://u:pw@m.example",
                 expect="--marathon-url: credentials in the URL are refused")
        self.bad(2, "plan", "--date", "2026-11-19", *base, "--git-url", "https://ghp_TOKEN@git.example/x.git",
                 expect="--git-url: credentials in the URL are refused")

    def test_missing_password_file(self):
        self.bad(1, "dates", "--registry", "http://127.0.0.1:9", "--repos", "web", "--username", "u",
                 "--password-file", "/nonexistent/pw", expect="cannot read the password file")


class ConfigFile(RewindCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()
        push(cls.reg.url, EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def conf(self, text):
        return self.write("rewind.conf", text)

    def test_environment_sections_map_names_to_tag_suffixes(self):
        path = self.conf("""# the team's settings
[registry]
\turl = http://127.0.0.1:9
[registry "prod"]
\turl = %s
[release]
\trepos = web, api, worker, front
\tkeep = 10
[env "prod"]
\ttag-suffix = master
[env "dev"]
\ttag-suffix = develop
""" % self.reg.url)
        doc = self.ok("--config", path, "dates", "--json", "--env", "prod").json()
        self.assertEqual(doc["env"], "prod")
        self.assertEqual(doc["dates"][0]["date"], "2026-11-20")
        self.assertEqual(doc["filter"], "tags ending in -master")
        dev = self.ok("dates", "--json", "--env", "dev", "--registry", self.reg.url,
                      env={"REWIND_CONFIG": path}).json()
        self.assertEqual([d["date"] for d in dev["dates"]], ["2026-11-21"])

    def test_command_line_beats_environment_beats_file(self):
        path = self.conf("[registry]\n\turl = %s\n[release]\n\trepos = web\n\tkeep = 1\n" % self.reg.url)
        args = ["dates", "--json", "--env", "master", "--config", path]
        self.assertEqual(len(self.ok(*args).json()["dates"]), 1)
        self.assertEqual(len(self.ok(*args, env={"REWIND_KEEP": "2"}).json()["dates"]), 2)
        self.assertEqual(len(self.ok(*args, "--keep", "0", env={"REWIND_KEEP": "2"}).json()["dates"]), 2)
        self.assertEqual(self.ok(*args, "--repos", "front").json()["repos"], ["front"])

    def test_rewind_conf_in_the_working_directory(self):
        with open(self.cwd + "/rewind.conf", "w") as f:
            f.write("[registry]\n\turl = %s\n[release]\n\trepos = %s\n\tenv = master\n" % (self.reg.url, EXAMPLE_REPOS))
        res = self.ok("plan", "--date", "2026-11-19")
        self.assertIn("front   0.9.4-master  2026-11-19", res.out)

    def test_unknown_key_names_file_and_line(self):
        path = self.conf("[registry]\n\turl = %s\n[release]\n\trepos = web\n\tkep = 3\n" % self.reg.url)
        res = self.fails(3, "--config", path, "dates")
        self.assertIn("%s:5: unknown key 'kep' in section [release]" % path, res.err)

    def test_unknown_section_names_file_and_line(self):
        path = self.conf("[registry]\n\turl = x\n\n[relase]\n\trepos = web\n")
        res = self.fails(3, "dates", "--config", path)
        self.assertIn("%s:5: unknown section [relase]" % path, res.err)

    def test_env_section_needs_a_name(self):
        path = self.conf("[env]\n\ttag-suffix = master\n")
        res = self.fails(3, "dates", "--config", path)
        self.assertIn("[env] needs the environment's name", res.err)

    def test_bad_value_in_file(self):
        path = self.conf("[registry]\n\turl = %s\n[release]\n\trepos = web\n\tkeep = lots\n" % self.reg.url)
        res = self.fails(3, "dates", "--config", path)
        self.assertIn("%s:5: invalid value 'lots' for keep" % path, res.err)

    def test_syntax_error_in_file(self):
        path = self.conf("[registry\n\turl = x\n")
        res = self.fails(3, "dates", "--config", path)
        self.assertIn("cannot read configuration", res.err)

    def test_missing_config_file(self):
        res = self.fails(1, "dates", "--config", "/nonexistent/rewind.conf")
        self.assertIn("/nonexistent/rewind.conf", res.err)


if __name__ == "__main__":
    unittest.main()
