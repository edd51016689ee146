/* rewrite: finding image references in manifests and changing only their tags. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "rewind/rewrite.h"
#include "rewind/util.h"

#define D1 "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define D2 "sha256:ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db2"

static int setup(void **state)
{
	(void)state;
	rw_error_clear();
	return 0;
}

/* Rewrites every reference to repo in text; asserts the whole output and the count found. */
static void assert_rewrite(const char *text, const char *repo, const char *tag, const char *digest,
	size_t count, const char *want)
{
	rw_image_sites sites = RW_IMAGE_SITES_INIT;
	rw_buf out = RW_BUF_INIT;

	assert_int_equal(rw_rewrite_find(&sites, text, strlen(text), repo), 0);
	if (sites.count != count)
		fail_msg("found %zu references to %s, expected %zu", sites.count, repo, count);
	assert_int_equal(rw_rewrite_apply(&out, text, strlen(text), &sites, tag, digest), 0);
	if (out.size != strlen(want) || memcmp(out.ptr, want, out.size))
		fail_msg("rewrite of %s gave\n---\n%s---\nexpected\n---\n%s---", repo, out.ptr ? out.ptr : "", want);
	rw_buf_dispose(&out);
	rw_image_sites_dispose(&sites);
}

static size_t count_of(const char *text, const char *repo)
{
	rw_image_sites sites = RW_IMAGE_SITES_INIT;
	size_t n;

	assert_int_equal(rw_rewrite_find(&sites, text, strlen(text), repo), 0);
	n = sites.count;
	rw_image_sites_dispose(&sites);
	return n;
}

static void assert_span(const char *text, size_t start, size_t end, const char *want)
{
	if (end - start != strlen(want) || memcmp(text + start, want, end - start))
		fail_msg("span [%zu, %zu) is '%.*s', expected '%s'", start, end, (int)(end - start), text + start, want);
}

/* --- Kubernetes ------------------------------------------------------------ */

static const char deployment[] =
	"# web: the shop's front end\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"  labels: {app: web, tier: \"front\"}\n"
	"spec:\n"
	"  replicas: 3\n"
	"  template:\n"
	"    spec:\n"
	"      initContainers:\n"
	"        - name: migrate\n"
	"          image: \"registry.example.com/team/web:1.8.0-master\"   # same image, runs migrations\n"
	"          args: [\"migrate\", \"--yes\"]\n"
	"      containers:\n"
	"      - name: web\n"
	"        image:   registry.example.com/team/web:1.8.0-master # {\"$imagepolicy\": \"flux-system:web\"}\n"
	"        # image: registry.example.com/team/web:1.0.0-master  (the old one, kept for reference)\n"
	"        ports:\n"
	"        - containerPort: 8080\n"
	"      - image: 'registry.example.com/team/webshop:2.0.0'\n"
	"        name: shop\n"
	"      - {name: sidecar, image: registry.example.com/team/web:1.8.0-master@" D1 "}\n"
	"      - name: proxy\n"
	"        image: registry.example.com/team/my-web:1.8.0-master\n"
	"---\n"
	"apiVersion: batch/v1\n"
	"kind: CronJob\n"
	"spec:\n"
	"  jobTemplate:\n"
	"    spec:\n"
	"      template:\n"
	"        spec:\n"
	"          containers:\n"
	"          - image: &webimg registry.example.com/web:1.8.0-master\n"
	"            name: cleanup\n"
	"          - image: *webimg\n"
	"            name: again\n"
	"...\n";

static void kubernetes_deployment(void **state)
{
	static const char want[] =
		"# web: the shop's front end\n"
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: web\n"
		"  labels: {app: web, tier: \"front\"}\n"
		"spec:\n"
		"  replicas: 3\n"
		"  template:\n"
		"    spec:\n"
		"      initContainers:\n"
		"        - name: migrate\n"
		"          image: \"registry.example.com/team/web:1.7.9-master\"   # same image, runs migrations\n"
		"          args: [\"migrate\", \"--yes\"]\n"
		"      containers:\n"
		"      - name: web\n"
		"        image:   registry.example.com/team/web:1.7.9-master # {\"$imagepolicy\": \"flux-system:web\"}\n"
		"        # image: registry.example.com/team/web:1.0.0-master  (the old one, kept for reference)\n"
		"        ports:\n"
		"        - containerPort: 8080\n"
		"      - image: 'registry.example.com/team/webshop:2.0.0'\n"
		"        name: shop\n"
		"      - {name: sidecar, image: registry.example.com/team/web:1.7.9-master}\n"
		"      - name: proxy\n"
		"        image: registry.example.com/team/my-web:1.8.0-master\n"
		"---\n"
		"apiVersion: batch/v1\n"
		"kind: CronJob\n"
		"spec:\n"
		"  jobTemplate:\n"
		"    spec:\n"
		"      template:\n"
		"        spec:\n"
		"          containers:\n"
		"          - image: &webimg registry.example.com/web:1.7.9-master\n"
		"            name: cleanup\n"
		"          - image: *webimg\n"
		"            name: again\n"
		"...\n";

	(void)state;
	assert_rewrite(deployment, "web", "1.7.9-master", NULL, 4, want);
}

static void kubernetes_findings(void **state)
{
	rw_image_sites s = RW_IMAGE_SITES_INIT;
	const char *t = deployment;

	(void)state;
	assert_int_equal(rw_rewrite_find(&s, t, strlen(t), "team/web"), 0);
	assert_int_equal(s.count, 3); /* registry.example.com/web is not team/web */

	assert_int_equal(s.items[0].line, 13);
	assert_string_equal(s.items[0].image, "registry.example.com/team/web:1.8.0-master");
	assert_true(s.items[0].has_tag);
	assert_false(s.items[0].has_digest);
	assert_false(s.items[0].split);
	assert_null(s.items[0].policy);
	assert_span(t, s.items[0].tag_start, s.items[0].tag_end, "1.8.0-master");

	assert_int_equal(s.items[1].line, 17);
	assert_string_equal(s.items[1].policy, "flux-system:web");
	assert_span(t, s.items[1].tag_start, s.items[1].tag_end, "1.8.0-master");

	assert_int_equal(s.items[2].line, 23);
	assert_true(s.items[2].has_digest);
	assert_span(t, s.items[2].tag_start, s.items[2].tag_end, "1.8.0-master");
	assert_span(t, s.items[2].digest_start, s.items[2].digest_end, D1);
	assert_string_equal(s.items[2].image, "registry.example.com/team/web:1.8.0-master@" D1);
	rw_image_sites_dispose(&s);
}

static void other_names_do_not_match(void **state)
{
	(void)state;
	assert_int_equal(count_of(deployment, "webshop"), 1);
	assert_int_equal(count_of(deployment, "team/webshop"), 1);
	assert_int_equal(count_of(deployment, "my-web"), 1);
	assert_int_equal(count_of(deployment, "shop"), 0);
	assert_int_equal(count_of(deployment, "eb"), 0);
	assert_int_equal(count_of(deployment, "example.com/team/web"), 0);
	assert_int_equal(count_of(deployment, "other/web"), 0);
	assert_int_equal(count_of(deployment, "front"), 0);
	assert_true(rw_rewrite_path_matches("team/web", "web"));
	assert_true(rw_rewrite_path_matches("web", "web"));
	assert_false(rw_rewrite_path_matches("team/webshop", "web"));
	assert_false(rw_rewrite_path_matches("team/my-web", "web"));
	assert_false(rw_rewrite_path_matches("eb", "web"));
}

static void digest_added_and_removed(void **state)
{
	static const char text[] =
		"containers:\n"
		"- image: host:5000/web:1.0 # pinned below\n"
		"- image: host:5000/web@" D1 "\n"
		"- image: \"host:5000/web\"\n";
	static const char pinned[] =
		"containers:\n"
		"- image: host:5000/web:0.9@" D2 " # pinned below\n"
		"- image: host:5000/web:0.9@" D2 "\n"
		"- image: \"host:5000/web:0.9@" D2 "\"\n";
	static const char unpinned[] =
		"containers:\n"
		"- image: host:5000/web:0.9 # pinned below\n"
		"- image: host:5000/web:0.9\n"
		"- image: \"host:5000/web:0.9\"\n";

	(void)state;
	assert_rewrite(text, "web", "0.9", D2, 3, pinned);
	assert_rewrite(text, "web", "0.9", NULL, 3, unpinned);
}

static void crlf_line_endings(void **state)
{
	static const char text[] =
		"apiVersion: v1\r\n"
		"kind: Pod\r\n"
		"spec:\r\n"
		"  containers:\r\n"
		"  - name: web\r\n"
		"    image: web:1.0   \r\n"
		"    image2: web:1.0\r\n"
		"  - name: helper\r\n"
		"    image: \"team/web:1.0\" # {\"$imagepolicy\": \"apps:web:tag\"}\r\n";
	static const char want[] =
		"apiVersion: v1\r\n"
		"kind: Pod\r\n"
		"spec:\r\n"
		"  containers:\r\n"
		"  - name: web\r\n"
		"    image: web:2.0   \r\n"
		"    image2: web:1.0\r\n"
		"  - name: helper\r\n"
		"    image: \"team/web:2.0\" # {\"$imagepolicy\": \"apps:web:tag\"}\r\n";
	rw_image_sites s = RW_IMAGE_SITES_INIT;

	(void)state;
	assert_rewrite(text, "web", "2.0", NULL, 2, want);
	assert_int_equal(rw_rewrite_find(&s, text, strlen(text), "web"), 0);
	assert_int_equal(s.items[0].line, 6);
	assert_string_equal(s.items[0].image, "web:1.0");
	assert_string_equal(s.items[1].policy, "apps:web:tag");
	rw_image_sites_dispose(&s);
}

static void no_final_newline_and_odd_spacing(void **state)
{
	static const char text[] = "image:\tweb:1.0\n\"image\" : 'web:1.0'\nx: {image: \"web:1.0\"}";
	static const char want[] = "image:\tweb:1.1\n\"image\" : 'web:1.1'\nx: {image: \"web:1.1\"}";

	(void)state;
	assert_rewrite(text, "web", "1.1", NULL, 3, want);
}

static void not_references(void **state)
{
	static const char text[] =
		"# image: web:1.0\n"
		"image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
		"{{- if .Values.enabled }}\n"
		"image: ${REGISTRY}/web:1.0\n"
		"script: |\n"
		"  docker run web:1.0\n"
		"note: \"image: web:1.0\"\n"
		"broken: [unclosed, image: web:1.0\n"
		"image: web:1.0\n"
		"images: [web:1.0]\n"
		"name: web\n";

	(void)state;
	/* only the line-9 one: the unclosed "[" must not swallow it */
	assert_int_equal(count_of(text, "web"), 1);
	assert_int_equal(count_of("", "web"), 0);
	assert_int_equal(count_of("\n\n---\n", "web"), 0);
	assert_int_equal(count_of("[", "web"), 0);
	assert_int_equal(count_of("{\"image\": ", "web"), 0);
	assert_int_equal(count_of("image: \"web:1.0", "web"), 0);
	assert_int_equal(count_of("--- a: b\nimage: web:1\n--- # two\n", "web"), 1);
	assert_int_equal(count_of("x: [\n  {image: web:1},\n  {image: web:2}\n]\nimage: web:3\n", "web"), 3);
}

static void deep_nesting_is_refused_quietly(void **state)
{
	char *text = rw_malloc(20001);

	(void)state;
	memset(text, '[', 20000);
	text[20000] = '\0';
	assert_int_equal(count_of(text, "web"), 0);
	free(text);
}

/* --- Helm values ---------------------------------------------------------- */

static const char values[] =
	"# Default values for shop.\n"
	"replicaCount: 2\n"
	"\n"
	"image:\n"
	"  registry: registry.example.com\n"
	"  repository: team/web   # the service\n"
	"  pullPolicy: IfNotPresent\n"
	"  # Overrides the image tag whose default is the chart appVersion.\n"
	"  tag: \"1.8.0-master\" # {\"$imagepolicy\": \"flux-system:web:tag\"}\n"
	"\n"
	"worker:\n"
	"  image: {repository: registry.example.com/web, tag: 1.8.0-master, pullPolicy: Always}\n"
	"sidecar:\n"
	"  image:\n"
	"    digest: '" D1 "'\n"
	"    repository: registry.example.com/web\n"
	"    tag: 1.8.0-master\n"
	"shop:\n"
	"  image:\n"
	"    repository: registry.example.com/webshop\n"
	"    tag: \"3.0\"\n"
	"batch:\n"
	"  image:\n"
	"    repository: registry.example.com/web\n"
	"  schedule: \"0 3 * * *\"\n";

static void helm_values(void **state)
{
	static const char want[] =
		"# Default values for shop.\n"
		"replicaCount: 2\n"
		"\n"
		"image:\n"
		"  registry: registry.example.com\n"
		"  repository: team/web   # the service\n"
		"  pullPolicy: IfNotPresent\n"
		"  # Overrides the image tag whose default is the chart appVersion.\n"
		"  tag: \"1.7.9-master\" # {\"$imagepolicy\": \"flux-system:web:tag\"}\n"
		"\n"
		"worker:\n"
		"  image: {repository: registry.example.com/web, tag: 1.7.9-master, pullPolicy: Always}\n"
		"sidecar:\n"
		"  image:\n"
		"    digest: ''\n"
		"    repository: registry.example.com/web\n"
		"    tag: 1.7.9-master\n"
		"shop:\n"
		"  image:\n"
		"    repository: registry.example.com/webshop\n"
		"    tag: \"3.0\"\n"
		"batch:\n"
		"  image:\n"
		"    repository: registry.example.com/web\n"
		"    tag: \"1.7.9-master\"\n"
		"  schedule: \"0 3 * * *\"\n";

	(void)state;
	assert_rewrite(values, "web", "1.7.9-master", NULL, 4, want);
}

static void helm_values_pinned(void **state)
{
	static const char want[] =
		"# Default values for shop.\n"
		"replicaCount: 2\n"
		"\n"
		"image:\n"
		"  registry: registry.example.com\n"
		"  repository: team/web   # the service\n"
		"  pullPolicy: IfNotPresent\n"
		"  # Overrides the image tag whose default is the chart appVersion.\n"
		"  tag: \"1.7.9\" # {\"$imagepolicy\": \"flux-system:web:tag\"}\n"
		"  digest: \"" D2 "\"\n"
		"\n"
		"worker:\n"
		"  image: {repository: registry.example.com/web, tag: 1.7.9, digest: \"" D2 "\", pullPolicy: Always}\n"
		"sidecar:\n"
		"  image:\n"
		"    digest: '" D2 "'\n"
		"    repository: registry.example.com/web\n"
		"    tag: 1.7.9\n"
		"shop:\n"
		"  image:\n"
		"    repository: registry.example.com/webshop\n"
		"    tag: \"3.0\"\n"
		"batch:\n"
		"  image:\n"
		"    repository: registry.example.com/web\n"
		"    tag: \"1.7.9\"\n"
		"    digest: \"" D2 "\"\n"
		"  schedule: \"0 3 * * *\"\n";

	(void)state;
	assert_rewrite(values, "web", "1.7.9", D2, 4, want);
}

static void helm_findings(void **state)
{
	rw_image_sites s = RW_IMAGE_SITES_INIT;
	const char *t = values;

	(void)state;
	assert_int_equal(rw_rewrite_find(&s, t, strlen(t), "web"), 0);
	assert_int_equal(s.count, 4);
	assert_true(s.items[0].split);
	assert_int_equal(s.items[0].line, 9);
	assert_string_equal(s.items[0].image, "registry.example.com/team/web:1.8.0-master");
	assert_string_equal(s.items[0].policy, "flux-system:web:tag");
	assert_span(t, s.items[0].tag_start, s.items[0].tag_end, "1.8.0-master");
	assert_int_equal(s.items[1].line, 12);
	assert_string_equal(s.items[1].image, "registry.example.com/web:1.8.0-master");
	assert_int_equal(s.items[2].line, 17);
	assert_string_equal(s.items[2].image, "registry.example.com/web:1.8.0-master@" D1);
	assert_span(t, s.items[2].digest_start, s.items[2].digest_end, D1);
	assert_int_equal(s.items[3].line, 24); /* no tag: the repository's line */
	assert_string_equal(s.items[3].image, "registry.example.com/web");
	assert_false(s.items[3].has_tag);
	rw_image_sites_dispose(&s);
}

/* A plain tag that YAML would read as a number (or a boolean) gets quotes. */
static void helm_numeric_tags_are_quoted(void **state)
{
	static const char text[] = "image:\n  repository: web\n  tag: 1.2.3\n";

	(void)state;
	assert_rewrite(text, "web", "1.10", NULL, 1, "image:\n  repository: web\n  tag: \"1.10\"\n");
	assert_rewrite(text, "web", "20240101", NULL, 1, "image:\n  repository: web\n  tag: \"20240101\"\n");
	assert_rewrite(text, "web", "1e3", NULL, 1, "image:\n  repository: web\n  tag: \"1e3\"\n");
	assert_rewrite(text, "web", "on", NULL, 1, "image:\n  repository: web\n  tag: \"on\"\n");
	assert_rewrite(text, "web", "0x1F", NULL, 1, "image:\n  repository: web\n  tag: \"0x1F\"\n");
	assert_rewrite(text, "web", "1.2.4", NULL, 1, "image:\n  repository: web\n  tag: 1.2.4\n");
	assert_rewrite(text, "web", "1.0-rc1", NULL, 1, "image:\n  repository: web\n  tag: 1.0-rc1\n");
	assert_rewrite(text, "web", "v2", NULL, 1, "image:\n  repository: web\n  tag: v2\n");
	assert_rewrite("image:\n  repository: web\n  tag: '1.2'\n", "web", "1.10", NULL, 1,
		"image:\n  repository: web\n  tag: '1.10'\n");
}

/* A list item holding a repository: the added tag lines up with its keys. */
static void helm_list_item_and_last_line(void **state)
{
	static const char text[] =
		"extraContainers:\n"
		"  - repository: web\n"
		"    pullPolicy: Always\n"
		"  - repository: web";
	static const char want[] =
		"extraContainers:\n"
		"  - repository: web\n"
		"    tag: \"2.0\"\n"
		"    pullPolicy: Always\n"
		"  - repository: web\n"
		"    tag: \"2.0\"";

	(void)state;
	assert_rewrite(text, "web", "2.0", NULL, 2, want);
}

/* Argo CD Application with inline Helm values (a block scalar) */
static void argocd_application_values(void **state)
{
	static const char text[] =
		"apiVersion: argoproj.io/v1alpha1\n"
		"kind: Application\n"
		"spec:\n"
		"  source:\n"
		"    helm:\n"
		"      values: |\n"
		"        image:\n"
		"          repository: registry.example.com/web\n"
		"          tag: 1.8.0\n";
	static const char want[] =
		"apiVersion: argoproj.io/v1alpha1\n"
		"kind: Application\n"
		"spec:\n"
		"  source:\n"
		"    helm:\n"
		"      values: |\n"
		"        image:\n"
		"          repository: registry.example.com/web\n"
		"          tag: 1.7.9\n";

	(void)state;
	assert_rewrite(text, "web", "1.7.9", NULL, 1, want);
}

/* --- kustomize, compose --------------------------------------------------- */

static void kustomization_images(void **state)
{
	static const char text[] =
		"apiVersion: kustomize.config.k8s.io/v1beta1\n"
		"kind: Kustomization\n"
		"resources:\n"
		"- deployment.yaml\n"
		"images:\n"
		"- name: registry.example.com/team/web\n"
		"  newTag: 1.8.0-master\n"
		"- name: api\n"
		"  newName: registry.example.com/team/api\n"
		"  newTag: \"2.3.1-master\"\n"
		"- name: worker   # renamed to web's image\n"
		"  newName: registry.example.com/team/web\n"
		"  digest: " D1 "\n";
	static const char want[] =
		"apiVersion: kustomize.config.k8s.io/v1beta1\n"
		"kind: Kustomization\n"
		"resources:\n"
		"- deployment.yaml\n"
		"images:\n"
		"- name: registry.example.com/team/web\n"
		"  newTag: 1.7.9-master\n"
		"  digest: \"" D2 "\"\n"
		"- name: api\n"
		"  newName: registry.example.com/team/api\n"
		"  newTag: \"2.3.1-master\"\n"
		"- name: worker   # renamed to web's image\n"
		"  newName: registry.example.com/team/web\n"
		"  newTag: \"1.7.9-master\"\n"
		"  digest: " D2 "\n";

	(void)state;
	assert_rewrite(text, "web", "1.7.9-master", D2, 2, want);
	assert_int_equal(count_of(text, "api"), 1);
}

static void docker_compose(void **state)
{
	static const char text[] =
		"version: \"3.8\"\n"
		"x-defaults: &defaults\n"
		"  restart: always\n"
		"  image: registry.example.com/web:1.8.0   # default image\n"
		"services:\n"
		"  web:\n"
		"    <<: *defaults\n"
		"    ports: [\"80:80\", \"443:443\"]\n"
		"  web-admin:\n"
		"    image: \"registry.example.com/web\"\n"
		"    environment:\n"
		"      - IMAGE=registry.example.com/web:1.8.0\n"
		"  templated:\n"
		"    image: ${REGISTRY:-registry.example.com}/web:${TAG}\n"
		"  front:\n"
		"    image: registry.example.com/front:0.9.4\n";
	static const char want[] =
		"version: \"3.8\"\n"
		"x-defaults: &defaults\n"
		"  restart: always\n"
		"  image: registry.example.com/web:1.7.9   # default image\n"
		"services:\n"
		"  web:\n"
		"    <<: *defaults\n"
		"    ports: [\"80:80\", \"443:443\"]\n"
		"  web-admin:\n"
		"    image: \"registry.example.com/web:1.7.9\"\n"
		"    environment:\n"
		"      - IMAGE=registry.example.com/web:1.8.0\n"
		"  templated:\n"
		"    image: ${REGISTRY:-registry.example.com}/web:${TAG}\n"
		"  front:\n"
		"    image: registry.example.com/front:0.9.4\n";

	(void)state;
	assert_rewrite(text, "web", "1.7.9", NULL, 2, want);
}

/* --- JSON (Marathon) ------------------------------------------------------ */

static void marathon_app(void **state)
{
	static const char text[] =
		"{\n"
		"  \"id\": \"/prod/shop/web\",\n"
		"  \"instances\": 3,\n"
		"  \"container\": {\n"
		"    \"type\": \"DOCKER\",\n"
		"    \"docker\": {\n"
		"      \"image\" : \"registry.example.com/team/web:1.8.0-master\",\n"
		"      \"forcePullImage\": false,\n"
		"      \"parameters\": [{\"key\": \"label\", \"value\": \"image=web:1.0\"}]\n"
		"    }\n"
		"  },\n"
		"  \"env\": {\"NOTE\": \"# not a comment\", \"image\": \"not an image\"},\n"
		"  \"labels\": {\"HAPROXY_0_VHOST\": \"web.example.com\"}\n"
		"}\n";
	static const char want[] =
		"{\n"
		"  \"id\": \"/prod/shop/web\",\n"
		"  \"instances\": 3,\n"
		"  \"container\": {\n"
		"    \"type\": \"DOCKER\",\n"
		"    \"docker\": {\n"
		"      \"image\" : \"registry.example.com/team/web:1.7.9-master@" D2 "\",\n"
		"      \"forcePullImage\": false,\n"
		"      \"parameters\": [{\"key\": \"label\", \"value\": \"image=web:1.0\"}]\n"
		"    }\n"
		"  },\n"
		"  \"env\": {\"NOTE\": \"# not a comment\", \"image\": \"not an image\"},\n"
		"  \"labels\": {\"HAPROXY_0_VHOST\": \"web.example.com\"}\n"
		"}\n";
	rw_image_sites s = RW_IMAGE_SITES_INIT;

	(void)state;
	assert_rewrite(text, "web", "1.7.9-master", D2, 1, want);
	assert_int_equal(rw_rewrite_find(&s, text, strlen(text), "web"), 0);
	assert_int_equal(s.items[0].line, 7);
	assert_null(s.items[0].policy);
	rw_image_sites_dispose(&s);
}

static void marathon_pods_and_groups_minified(void **state)
{
	static const char text[] =
		"{\"id\":\"/prod\",\"apps\":[{\"id\":\"/prod/web\",\"container\":{\"docker\":{\"image\":\"web:1.0\"}}},"
		"{\"id\":\"/prod/shop\",\"container\":{\"docker\":{\"image\":\"webshop:1.0\"}}}],"
		"\"pods\":[{\"id\":\"/prod/pod\",\"containers\":[{\"name\":\"w\",\"image\":{\"kind\":\"DOCKER\",\"id\":\"team/web:1.0\"}}]}]}";
	static const char want[] =
		"{\"id\":\"/prod\",\"apps\":[{\"id\":\"/prod/web\",\"container\":{\"docker\":{\"image\":\"web:0.9\"}}},"
		"{\"id\":\"/prod/shop\",\"container\":{\"docker\":{\"image\":\"webshop:1.0\"}}}],"
		"\"pods\":[{\"id\":\"/prod/pod\",\"containers\":[{\"name\":\"w\",\"image\":{\"kind\":\"DOCKER\",\"id\":\"team/web:0.9\"}}]}]}";

	(void)state;
	assert_rewrite(text, "web", "0.9", NULL, 2, want);
}

/* JSON Helm values: a numeric tag becomes a string, a missing one is added */
static void json_split_values(void **state)
{
	static const char text[] = "{\"image\": {\"repository\": \"web\", \"tag\": 1.0},\n \"b\": {\"image\": {\"repository\": \"web\"}}}\n";
	static const char want[] = "{\"image\": {\"repository\": \"web\", \"tag\": \"2.0\"},\n \"b\": {\"image\": {\"repository\": \"web\", \"tag\": \"2.0\"}}}\n";

	(void)state;
	assert_rewrite(text, "web", "2.0", NULL, 2, want);
}

/* With a UTF-8 byte order mark, the JSON scanner still starts */
static void json_with_bom(void **state)
{
	static const char text[] = "\xEF\xBB\xBF{\"image\": \"web:1\"}";
	static const char want[] = "\xEF\xBB\xBF{\"image\": \"web:2\"}";

	(void)state;
	assert_rewrite(text, "web", "2", NULL, 1, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(kubernetes_deployment, setup),
		cmocka_unit_test_setup(kubernetes_findings, setup),
		cmocka_unit_test_setup(other_names_do_not_match, setup),
		cmocka_unit_test_setup(digest_added_and_removed, setup),
		cmocka_unit_test_setup(crlf_line_endings, setup),
		cmocka_unit_test_setup(no_final_newline_and_odd_spacing, setup),
		cmocka_unit_test_setup(not_references, setup),
		cmocka_unit_test_setup(deep_nesting_is_refused_quietly, setup),
		cmocka_unit_test_setup(helm_values, setup),
		cmocka_unit_test_setup(helm_values_pinned, setup),
		cmocka_unit_test_setup(helm_findings, setup),
		cmocka_unit_test_setup(helm_numeric_tags_are_quoted, setup),
		cmocka_unit_test_setup(helm_list_item_and_last_line, setup),
		cmocka_unit_test_setup(argocd_application_values, setup),
		cmocka_unit_test_setup(kustomization_images, setup),
		cmocka_unit_test_setup(docker_compose, setup),
		cmocka_unit_test_setup(marathon_app, setup),
		cmocka_unit_test_setup(marathon_pods_and_groups_minified, setup),
		cmocka_unit_test_setup(json_split_values, setup),
		cmocka_unit_test_setup(json_with_bom, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
