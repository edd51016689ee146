/*
 * manifest: kinds and media types, platform selection, creation times of
 * manifests and image configs, and the signed payload of schema 1.
 *
 * The bodies are shaped like what docker push, buildx and old registries
 * serve; the digests in them are sha256 of short strings, and the signed
 * schema 1 manifest and its expected digest were made independently (with
 * Python's json, base64 and hashlib), following libtrust's prettyjws.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "unit.h"
#include "rewind/manifest.h"
#include "rewind/util.h"

#define D_CONFIG_DOCKER "sha256:5f00c4ae54f2c2ce7d0e44f734a25930b538216dc935793b6e9930d6e8abd18f"
#define D_CONFIG_OCI "sha256:8b1cd88f6b581dea6871f50fbeb434934da519b9ca06c2aea76e4972b9428a1a"
#define D_LAYER_ALPINE "sha256:800ef2aad4e240d89a6b12a4325ffbd74e19db7c192ae82c97f8d8f8659dff8b"
#define D_LAYER_APP "sha256:afeea5953107dd5b4f3133a7795771d285c4b21b656f27db2b90909840d93328"
#define D_AMD64 "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51"
#define D_ARMV6 "sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf"
#define D_ARMV7 "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
#define D_ARM64V8 "sha256:d182c920d56d5bf143d2406c07022ea0969e792c2e1650749defe28a6cb0cf2b"
#define D_386 "sha256:15a26c6fa5151c712acc7ee45a1fd525ab85b801f096847c7d5fdf49efeabb4d"
#define D_PPC64LE "sha256:c92bb5907722b7ac701cea3606df516f5fe98c9f8380063df2d17d7d5db0bd05"
#define D_ATT_AMD64 "sha256:23c2adc48fb8dec0b92d35fcc634144f385fd8c151a011d90d37dd3bd074776f"
#define D_ATT_ARM64 "sha256:90ca1d1fc6855fb9475d8a323006d8d1d16fcd546582ae835b03ddc107809d6c"
#define D_OCI_AMD64 "sha256:43179573a0e73e7feab38043a18c697d2aaaac055d607fa80aeeed664ab5ccee"
#define D_OCI_ARM64 "sha256:1b951bd93c77298aa5e768e8a8889b4d57f936045e9e453ad687ac998b38caa5"
#define D_BLOB1 "sha256:8ba0d06bc5a88966b1f681d9cab28709781ad7c450802d0e477132d8919e0cbf"
#define D_BLOB2 "sha256:534d059533cc6a29b0e8747334c6af08619b1b59e6727f50a8094c90f6393282"
#define D_IMG1 "sha256:d7bdd545f09d8a73c2b990337c8211d708a04ccd9748627685e4fc79cc038039"
#define D_IMG2 "sha256:6987740fb624e3e9943ec5d9ac5519b72cea1b35fb4bde5719df3923a36c08f7"

#define S1_HEAD "{\n" \
	"   \"schemaVersion\": 1,\n" \
	"   \"name\": \"team/web\",\n" \
	"   \"tag\": \"1.0.3\",\n" \
	"   \"architecture\": \"amd64\",\n" \
	"   \"fsLayers\": [\n" \
	"      {\n" \
	"         \"blobSum\": \"sha256:afeea5953107dd5b4f3133a7795771d285c4b21b656f27db2b90909840d93328\"\n" \
	"      },\n" \
	"      {\n" \
	"         \"blobSum\": \"sha256:800ef2aad4e240d89a6b12a4325ffbd74e19db7c192ae82c97f8d8f8659dff8b\"\n" \
	"      }\n" \
	"   ],\n" \
	"   \"history\": [\n" \
	"      {\n" \
	"         \"v1Compatibility\": \"{\\\"architecture\\\":\\\"amd64\\\",\\\"config\\\":{\\\"Hostname\\\":\\\"\\\",\\\"Env\\\":[\\\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\\\"],\\\"Cmd\\\":[\\\"/bin/sh\\\",\\\"-c\\\",\\\"/app/server\\\"],\\\"Image\\\":\\\"sha256:e47125968b3b71049fbc4802d1e40a71ea1359decfabacf70b34588037d4ff0c\\\",\\\"Labels\\\":{}},\\\"container\\\":\\\"3f2b1a\\\",\\\"created\\\":\\\"2016-09-23T18:08:51.133779867Z\\\",\\\"docker_version\\\":\\\"1.12.1\\\",\\\"id\\\":\\\"f3436f50b2f7f1613ad142dbce1d24801d9daaabc45ecb2db909251a214c9840\\\",\\\"os\\\":\\\"linux\\\",\\\"parent\\\":\\\"b459afddb3a09621ee29b78b3968e566d7fb0001d96395d54030eb703b0337a9\\\"}\"\n" \
	"      },\n" \
	"      {\n" \
	"         \"v1Compatibility\": \"{\\\"id\\\":\\\"b459afddb3a09621ee29b78b3968e566d7fb0001d96395d54030eb703b0337a9\\\",\\\"created\\\":\\\"2016-09-23T16:36:54.024611637Z\\\",\\\"container_config\\\":{\\\"Cmd\\\":[\\\"/bin/sh -c #(nop) ADD file:6a3dc3e2d58f09efa4d4d8fa8f3c1cbbc5b8df6e5a8ba9c6b8e3d7f1c8b2e4a1 in / \\\"]}}\"\n" \
	"      }\n" \
	"   ]"
#define S1_PAYLOAD_DIGEST "sha256:8b6d84edb6a00a112a30a8f45759ac2e8ff94d64d42f5f3a9b7230b5c8d32338"
#define P_LEN_BIG "eyJmb3JtYXRMZW5ndGgiOjEwMDAwMCwiZm9ybWF0VGFpbCI6IkNuMCIsInRpbWUiOiIyMDE2LTA5LTIzVDE4OjEwOjAyWiJ9" /* {"formatLength":100000,"formatTail":"Cn0","time":"2016-09-23T18:10:02Z"} */
#define P_LEN_MINUS "eyJmb3JtYXRMZW5ndGgiOjEyNzEsImZvcm1hdFRhaWwiOiJDbjAiLCJ0aW1lIjoiMjAxNi0wOS0yM1QxODoxMDowMloifQ" /* {"formatLength":1271,"formatTail":"Cn0","time":"2016-09-23T18:10:02Z"} */
#define P_NO_TAIL "eyJmb3JtYXRMZW5ndGgiOjEyNzIsInRpbWUiOiIyMDE2LTA5LTIzVDE4OjEwOjAyWiJ9" /* {"formatLength":1272,"time":"2016-09-23T18:10:02Z"} */

/* The protected header of S1_SIGNED: {"formatLength":1272,"formatTail":"Cn0",...} */
#define P_OK "eyJmb3JtYXRMZW5ndGgiOjEyNzIsImZvcm1hdFRhaWwiOiJDbjAiLCJ0aW1lIjoiMjAxNi0wOS0yM1QxODoxMDowMloifQ"

#define JWK_HEADER \
	"         \"header\": {\n" \
	"            \"jwk\": {\n" \
	"               \"crv\": \"P-256\",\n" \
	"               \"kid\": \"ZQQM:CEBP:NAJ3:KJ3A:KZXR:6L4G:GZMT:6ICO:XTJE:2N5V:TK5J:HXLR\",\n" \
	"               \"kty\": \"EC\",\n" \
	"               \"x\": \"9Jm0tDj1nF3tAzmYnN8ykqg_8pNj4JGn2tcZSW9j0vU\",\n" \
	"               \"y\": \"wP_uCu4wrD4pY5zdo8nvX5nGkgvlO9pkVjg6m4Swd3I\"\n" \
	"            },\n" \
	"            \"alg\": \"ES256\"\n" \
	"         },\n"

#define SIGNATURE(protected) \
	"      {\n" \
	JWK_HEADER \
	"         \"signature\": \"f7nuAuZl3KqJ1kpIX2Jr7GE8FYpnRnZ_WZKXXB7lw7Y9qTu6xYJ8N4rQ2fjO7RZmrgdwDqIe7f3cBhe3ch0bOw\",\n" \
	"         \"protected\": \"" protected "\"\n" \
	"      }"

/* What docker 1.12 pushed: the payload with its signatures spliced in before the last "\n}". */
#define S1_SIGNED_WITH(sigs) S1_HEAD ",\n   \"signatures\": [\n" sigs "\n   ]\n}"
#define S1_SIGNED S1_SIGNED_WITH(SIGNATURE(P_OK))
/* The signed bytes: S1_HEAD plus the decoded formatTail. */
#define S1_PAYLOAD S1_HEAD "\n}"

/* 2016-09-23T18:08:51Z, the newest `created` in S1_HEAD's history. */
#define S1_CREATED 1474654131

#define DOCKER_V2 \
	"{\n" \
	"   \"schemaVersion\": 2,\n" \
	"   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n" \
	"   \"config\": {\n" \
	"      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n" \
	"      \"size\": 1472,\n" \
	"      \"digest\": \"" D_CONFIG_DOCKER "\"\n" \
	"   },\n" \
	"   \"layers\": [\n" \
	"      {\n" \
	"         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n" \
	"         \"size\": 3408729,\n" \
	"         \"digest\": \"" D_LAYER_ALPINE "\"\n" \
	"      },\n" \
	"      {\n" \
	"         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n" \
	"         \"size\": 1843,\n" \
	"         \"digest\": \"" D_LAYER_APP "\"\n" \
	"      }\n" \
	"   ]\n" \
	"}"

#define OCI_LAYERS \
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\"," \
	"\"digest\":\"" D_LAYER_ALPINE "\",\"size\":3408729},{\"mediaType\":" \
	"\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D_LAYER_APP "\",\"size\":1843}]"

/* buildx with --annotation "org.opencontainers.image.created=...": compact JSON. */
#define OCI_WITH_ANNOTATION(created) \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" \
	D_CONFIG_OCI "\",\"size\":1839}," OCI_LAYERS ",\"annotations\":{" \
	"\"org.opencontainers.image.created\":\"" created "\"," \
	"\"org.opencontainers.image.source\":\"https://github.com/example/web\"}}"
#define OCI_ANNOTATED OCI_WITH_ANNOTATION("2024-03-05T10:11:12Z")
#define OCI_ANNOTATED_CREATED 1709633472

/* No mediaType and no annotations, as early OCI tools wrote them. */
#define OCI_PLAIN \
	"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"," \
	"\"digest\":\"" D_CONFIG_OCI "\",\"size\":1839}," OCI_LAYERS "}"

#define LIST_ENTRY(digest, platform) \
	"      {\n" \
	"         \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n" \
	"         \"size\": 528,\n" \
	"         \"digest\": \"" digest "\",\n" \
	"         \"platform\": {\n" \
	platform \
	"         }\n" \
	"      }"
#define OS_ARCH(os, arch) \
	"            \"architecture\": \"" arch "\",\n" \
	"            \"os\": \"" os "\"\n"
#define OS_ARCH_VARIANT(os, arch, variant) \
	"            \"architecture\": \"" arch "\",\n" \
	"            \"os\": \"" os "\",\n" \
	"            \"variant\": \"" variant "\"\n"

/* A manifest list like those of Docker's official images. */
#define DOCKER_LIST \
	"{\n" \
	"   \"manifests\": [\n" \
	LIST_ENTRY(D_AMD64, OS_ARCH("linux", "amd64")) ",\n" \
	LIST_ENTRY(D_ARMV6, OS_ARCH_VARIANT("linux", "arm", "v6")) ",\n" \
	LIST_ENTRY(D_ARMV7, OS_ARCH_VARIANT("linux", "arm", "v7")) ",\n" \
	LIST_ENTRY(D_ARM64V8, OS_ARCH_VARIANT("linux", "arm64", "v8")) ",\n" \
	LIST_ENTRY(D_386, OS_ARCH("linux", "386")) ",\n" \
	LIST_ENTRY(D_PPC64LE, OS_ARCH("linux", "ppc64le")) "\n" \
	"   ],\n" \
	"   \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\",\n" \
	"   \"schemaVersion\": 2\n" \
	"}"

#define OCI_ENTRY(digest, arch) \
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" digest "\"," \
	"\"size\":1052,\"platform\":{\"architecture\":\"" arch "\",\"os\":\"linux\"}}"
#define ATTESTATION(digest, ref) \
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" digest "\"," \
	"\"size\":840,\"annotations\":{\"vnd.docker.reference.digest\":\"" ref "\"," \
	"\"vnd.docker.reference.type\":\"attestation-manifest\"}," \
	"\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}"

/* buildx --platform linux/amd64,linux/arm64 with provenance attestations. */
#define OCI_INDEX_MANIFESTS \
	"\"manifests\":[" OCI_ENTRY(D_OCI_AMD64, "amd64") "," OCI_ENTRY(D_OCI_ARM64, "arm64") "," \
	ATTESTATION(D_ATT_AMD64, D_OCI_AMD64) "," ATTESTATION(D_ATT_ARM64, D_OCI_ARM64) "]"
#define OCI_INDEX \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"," \
	OCI_INDEX_MANIFESTS ",\"annotations\":{\"org.opencontainers.image.created\":" \
	"\"2024-05-06T07:08:09Z\"}}"
#define OCI_INDEX_CREATED 1714979289

/* Schema 1 as an old registry served it unsigned; history entries of every sort. */
#define V1C(json) "{\"v1Compatibility\": \"" json "\"}"
#define S1_UNSIGNED \
	"{\n" \
	"   \"schemaVersion\": 1,\n" \
	"   \"name\": \"team/web\",\n" \
	"   \"tag\": \"0.9\",\n" \
	"   \"architecture\": \"amd64\",\n" \
	"   \"fsLayers\": [{\"blobSum\": \"" D_LAYER_APP "\"}, {\"blobSum\": \"" D_LAYER_ALPINE "\"}],\n" \
	"   \"history\": [\n" \
	"      " V1C("{\\\"id\\\":\\\"a1\\\",\\\"created\\\":\\\"1970-01-01T00:00:00Z\\\"}") ",\n" \
	"      " V1C("{\\\"id\\\":\\\"a2\\\",\\\"created\\\":\\\"yesterday\\\"}") ",\n" \
	"      " V1C("{\\\"id\\\":\\\"a3\\\",\\\"created\\\":\\\"2016-09-23T16:36:54.024611637Z\\\"}") ",\n" \
	"      " V1C("{\\\"id\\\":\\\"a4\\\",\\\"created\\\":\\\"2016-09-23T18:08:51.133779867Z\\\"}") ",\n" \
	"      " V1C("not json") ",\n" \
	"      {\"v1Compatibility\": 42},\n" \
	"      " V1C("{\\\"id\\\":\\\"a7\\\"}") "\n" \
	"   ]\n" \
	"}"

static int setup(void **state)
{
	(void)state;
	rw_error_clear();
	return 0;
}

static rw_manifest *parse_ok(const char *content_type, const char *body)
{
	rw_manifest *m = NULL;

	if (rw_manifest_parse(&m, content_type, body, strlen(body)) != 0)
		fail_msg("manifest did not parse: %s", rw_error_last()->message);
	assert_non_null(m);
	return m;
}

static void assert_last_error(rw_error_class klass, const char *message)
{
	assert_non_null(rw_error_last());
	assert_string_equal(rw_error_last()->message, message);
	assert_int_equal(rw_error_last()->klass, klass);
	rw_error_clear();
}

static void assert_parse_fails(const char *content_type, const char *body, const char *message)
{
	rw_manifest *m = (rw_manifest *)&m; /* must be reset to NULL */

	assert_int_equal(rw_manifest_parse(&m, content_type, body, strlen(body)), RW_ERROR);
	assert_null(m);
	assert_last_error(RW_ERR_PROTOCOL, message);
}

static void assert_kind(const char *content_type, const char *body, rw_manifest_kind kind,
	const char *media_type)
{
	rw_manifest *m = parse_ok(content_type, body);

	assert_int_equal(rw_manifest_kind_of(m), kind);
	assert_string_equal(rw_manifest_media_type(m), media_type);
	rw_manifest_free(m);
}

/* Asserts rw_manifest_created finds nothing, and says nothing. */
static void assert_undated(const char *content_type, const char *body)
{
	rw_manifest *m = parse_ok(content_type, body);
	int64_t t = -1;

	assert_int_equal(rw_manifest_created(&t, m), RW_ENOTFOUND);
	assert_int_equal(t, -1);
	assert_null(rw_error_last());
	rw_manifest_free(m);
}

static void docker_schema2_image(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_MANIFEST, DOCKER_V2);

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_IMAGE);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_DOCKER_MANIFEST);
	assert_string_equal(rw_manifest_config_digest(m), D_CONFIG_DOCKER);
	rw_manifest_free(m);
	assert_undated(RW_MT_DOCKER_MANIFEST, DOCKER_V2);
}

static void oci_image_with_created_annotation(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_MANIFEST, OCI_ANNOTATED);
	int64_t t = 0;

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_IMAGE);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_OCI_MANIFEST);
	assert_string_equal(rw_manifest_config_digest(m), D_CONFIG_OCI);
	assert_int_equal(rw_manifest_created(&t, m), 0);
	assert_int_equal(t, OCI_ANNOTATED_CREATED);
	rw_manifest_free(m);
}

static void oci_image_without_annotations(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_MANIFEST, OCI_PLAIN);

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_IMAGE);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_OCI_MANIFEST);
	assert_string_equal(rw_manifest_config_digest(m), D_CONFIG_OCI);
	rw_manifest_free(m);
	assert_undated(RW_MT_OCI_MANIFEST, OCI_PLAIN);
}

static void unusable_annotations_are_undated(void **state)
{
	(void)state;
	/* SOURCE_DATE_EPOCH=0 builds, and a date nobody can read. */
	assert_undated(RW_MT_OCI_MANIFEST, OCI_WITH_ANNOTATION("1970-01-01T00:00:00Z"));
	assert_undated(RW_MT_OCI_MANIFEST, OCI_WITH_ANNOTATION("1970-01-01T13:00:00.5Z"));
	assert_undated(RW_MT_OCI_MANIFEST, OCI_WITH_ANNOTATION("last tuesday"));
	assert_undated(RW_MT_OCI_MANIFEST, OCI_WITH_ANNOTATION("2024-13-05T10:11:12Z"));
}

static void undated_keeps_the_callers_error(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_MANIFEST, OCI_WITH_ANNOTATION("last tuesday"));
	int64_t t;

	(void)state;
	rw_error_set(RW_ERR_NET, "earlier failure");
	assert_int_equal(rw_manifest_created(&t, m), RW_ENOTFOUND);
	assert_last_error(RW_ERR_NET, "earlier failure");
	rw_manifest_free(m);
}

static void docker_manifest_list(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_LIST, DOCKER_LIST);

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_INDEX);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_DOCKER_LIST);
	assert_null(rw_manifest_config_digest(m));
	rw_manifest_free(m);
	assert_undated(RW_MT_DOCKER_LIST, DOCKER_LIST);
}

static void assert_selects(const rw_manifest *m, const char *platform, const char *digest)
{
	const char *d = NULL;

	if (rw_manifest_select_platform(&d, m, platform) != 0)
		fail_msg("no %s: %s", platform, rw_error_last()->message);
	assert_string_equal(d, digest);
}

static void assert_no_platform(const rw_manifest *m, const char *platform, const char *message)
{
	const char *d = "unset";

	assert_int_equal(rw_manifest_select_platform(&d, m, platform), RW_ENOTFOUND);
	assert_null(d);
	assert_last_error(RW_ERR_PROTOCOL, message);
}

static void list_selects_platforms(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_LIST, DOCKER_LIST);

	(void)state;
	assert_selects(m, "linux/amd64", D_AMD64);
	assert_selects(m, "linux/386", D_386);
	assert_selects(m, "linux/arm/v7", D_ARMV7);
	assert_selects(m, "linux/arm/v6", D_ARMV6);
	/* No variant asked and none without one: any variant will do (arm64 says v8). */
	assert_selects(m, "linux/arm64", D_ARM64V8);
	assert_selects(m, "linux/arm64/v8", D_ARM64V8);
	/* ...the first listed, when there are several. */
	assert_selects(m, "linux/arm", D_ARMV6);
	assert_no_platform(m, "linux/arm/v5", "no image for platform linux/arm/v5; the index has "
		"linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le");
	assert_no_platform(m, "linux/s390x", "no image for platform linux/s390x; the index has "
		"linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le");
	assert_no_platform(m, "windows/amd64", "no image for platform windows/amd64; the index has "
		"linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le");
	rw_manifest_free(m);
}

static void arm64_without_variant_is_v8(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_LIST, "{\"schemaVersion\":2,\"mediaType\":\""
		RW_MT_DOCKER_LIST "\",\"manifests\":[\n"
		LIST_ENTRY(D_IMG1, OS_ARCH_VARIANT("linux", "arm64", "v8")) ",\n"
		LIST_ENTRY(D_IMG2, OS_ARCH("linux", "arm64")) ",\n"
		LIST_ENTRY(D_AMD64, "            \"architecture\": \"amd64\", \"os\": \"linux\", \"variant\": \"\"\n")
		"]}");

	(void)state;
	/* arm64 and arm64/v8 are one platform: the first listed wins */
	assert_selects(m, "linux/arm64", D_IMG1);
	assert_selects(m, "linux/arm64/v8", D_IMG1);
	/* An empty variant is no variant. */
	assert_selects(m, "linux/amd64", D_AMD64);
	rw_manifest_free(m);
}

static void oci_index_with_attestations(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_INDEX, OCI_INDEX);
	int64_t t = 0;

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_INDEX);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_OCI_INDEX);
	assert_null(rw_manifest_config_digest(m));
	assert_int_equal(rw_manifest_created(&t, m), 0);
	assert_int_equal(t, OCI_INDEX_CREATED);
	assert_selects(m, "linux/amd64", D_OCI_AMD64);
	assert_selects(m, "linux/arm64", D_OCI_ARM64);
	/* arm64 without a variant is arm64/v8 (buildx leaves it out) */
	assert_selects(m, "linux/arm64/v8", D_OCI_ARM64);
	/* any other variant asked for must be there */
	assert_no_platform(m, "linux/arm64/v9",
		"no image for platform linux/arm64/v9; the index has linux/amd64, linux/arm64");
	/* Attestation manifests are not images, and not listed. */
	assert_no_platform(m, "unknown/unknown",
		"no image for platform unknown/unknown; the index has linux/amd64, linux/arm64");
	rw_manifest_free(m);
}

static void index_listing_is_deduplicated(void **state)
{
	/* Windows images list one os/arch per os.version. */
	rw_manifest *m = parse_ok(NULL, "{\"schemaVersion\":2,\"mediaType\":\"" RW_MT_DOCKER_LIST
		"\",\"manifests\":[{\"mediaType\":\"" RW_MT_DOCKER_MANIFEST "\",\"size\":1161,"
		"\"digest\":\"" D_IMG1 "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
		"\"os.version\":\"10.0.17763.5576\"}},{\"mediaType\":\"" RW_MT_DOCKER_MANIFEST "\","
		"\"size\":1161,\"digest\":\"" D_IMG2 "\",\"platform\":{\"architecture\":\"amd64\","
		"\"os\":\"windows\",\"os.version\":\"10.0.20348.2340\"}}]}");

	(void)state;
	assert_no_platform(m, "linux/amd64",
		"no image for platform linux/amd64; the index has windows/amd64");
	assert_selects(m, "windows/amd64", D_IMG1);
	rw_manifest_free(m);
}

static void index_of_attestations_only(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\""
		RW_MT_OCI_INDEX "\",\"manifests\":[" ATTESTATION(D_ATT_AMD64, D_OCI_AMD64) ","
		"{\"mediaType\":\"" RW_MT_OCI_MANIFEST "\",\"digest\":\"" D_IMG1 "\",\"size\":3}]}");

	(void)state;
	assert_no_platform(m, "linux/amd64",
		"no image for platform linux/amd64; the index lists no platforms");
	rw_manifest_free(m);
}

static void index_entry_with_bad_digest(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\""
		RW_MT_OCI_INDEX "\",\"manifests\":[" OCI_ENTRY("sha256:0123", "amd64") ","
		"{\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}");
	const char *d = "unset";

	(void)state;
	assert_int_equal(rw_manifest_select_platform(&d, m, "linux/amd64"), RW_ERROR);
	assert_null(d);
	assert_last_error(RW_ERR_PROTOCOL,
		"index entry for platform linux/amd64 has an invalid digest 'sha256:0123'");
	assert_int_equal(rw_manifest_select_platform(&d, m, "linux/arm64"), RW_ERROR);
	assert_last_error(RW_ERR_PROTOCOL,
		"index entry for platform linux/arm64 has an invalid digest ''");
	rw_manifest_free(m);
}

static void select_checks_its_arguments(void **state)
{
	rw_manifest *list = parse_ok(RW_MT_DOCKER_LIST, DOCKER_LIST);
	rw_manifest *image = parse_ok(RW_MT_DOCKER_MANIFEST, DOCKER_V2);
	const char *d;

	(void)state;
	assert_int_equal(rw_manifest_select_platform(&d, list, "linux"), RW_ERROR);
	assert_last_error(RW_ERR_USAGE,
		"invalid platform 'linux': expected os/arch[/variant], e.g. linux/amd64");
	assert_int_equal(rw_manifest_select_platform(&d, image, "linux/amd64"), RW_ERROR);
	assert_last_error(RW_ERR_INTERNAL, "manifest is not an index");
	rw_manifest_free(list);
	rw_manifest_free(image);
}

static void platform_validation(void **state)
{
	static const char *const good[] = {
		"linux/amd64", "linux/arm/v7", "windows/amd64", "linux/ppc64le", "linux/arm64/v8",
	};
	static const char *const bad[] = {
		"", "linux", "linux/", "/amd64", "linux//v7", "linux/arm/v7/", "linux/arm/v7/x",
		"Linux/amd64", "linux/x86_64", "linux/amd64 ", "linux amd64",
	};

	(void)state;
	for (size_t i = 0; i < RW_ARRAY_SIZE(good); i++)
		assert_int_equal(rw_platform_validate(good[i]), 0);
	assert_null(rw_error_last());
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		char *want = rw_printf("invalid platform '%s': expected os/arch[/variant], "
			"e.g. linux/amd64", bad[i]);

		assert_int_equal(rw_platform_validate(bad[i]), RW_ERROR);
		assert_last_error(RW_ERR_USAGE, want);
		free(want);
	}
}

static void schema1_unsigned(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_V1, S1_UNSIGNED);
	int64_t t = 0;

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_SCHEMA1);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_DOCKER_V1);
	assert_null(rw_manifest_config_digest(m));
	/* The newest of history, past the epoch, the unreadable and the broken. */
	assert_int_equal(rw_manifest_created(&t, m), 0);
	assert_int_equal(t, S1_CREATED);
	assert_null(rw_error_last());
	rw_manifest_free(m);
}

static void schema1_without_usable_history(void **state)
{
	(void)state;
	assert_undated(RW_MT_DOCKER_V1, "{\"schemaVersion\":1,\"name\":\"web\",\"tag\":\"1\","
		"\"history\":[" V1C("{\\\"created\\\":\\\"1970-01-01T00:00:00Z\\\"}") ","
		V1C("{\\\"created\\\":\\\"\\\"}") "]}");
	assert_undated(RW_MT_DOCKER_V1, "{\"schemaVersion\":1,\"name\":\"web\",\"tag\":\"1\"}");
	assert_undated(RW_MT_DOCKER_V1, "{\"schemaVersion\":1,\"history\":{\"created\":\"x\"}}");
}

static void schema1_signed(void **state)
{
	rw_manifest *m = parse_ok(RW_MT_DOCKER_V1_SIGNED, S1_SIGNED);
	int64_t t = 0;

	(void)state;
	assert_int_equal(rw_manifest_kind_of(m), RW_MANIFEST_SCHEMA1);
	assert_string_equal(rw_manifest_media_type(m), RW_MT_DOCKER_V1_SIGNED);
	assert_int_equal(rw_manifest_created(&t, m), 0);
	assert_int_equal(t, S1_CREATED);
	rw_manifest_free(m);
}

static void content_type_parameters_and_case_ignored(void **state)
{
	(void)state;
	assert_kind(RW_MT_OCI_MANIFEST "; charset=utf-8", OCI_PLAIN, RW_MANIFEST_IMAGE,
		RW_MT_OCI_MANIFEST);
	assert_kind(" " RW_MT_DOCKER_V1_SIGNED " ; charset=utf-8", S1_SIGNED, RW_MANIFEST_SCHEMA1,
		RW_MT_DOCKER_V1_SIGNED);
	assert_kind("Application/Vnd.Docker.Distribution.Manifest.V2+JSON", OCI_PLAIN,
		RW_MANIFEST_IMAGE, RW_MT_DOCKER_MANIFEST);
	assert_kind(RW_MT_OCI_INDEX, "{\"schemaVersion\":2," OCI_INDEX_MANIFESTS "}",
		RW_MANIFEST_INDEX, RW_MT_OCI_INDEX);
}

static void generic_content_types_read_the_body(void **state)
{
	(void)state;
	/* The body's mediaType says what it is. */
	assert_kind("application/json", DOCKER_LIST, RW_MANIFEST_INDEX, RW_MT_DOCKER_LIST);
	assert_kind("text/plain; charset=utf-8", DOCKER_V2, RW_MANIFEST_IMAGE, RW_MT_DOCKER_MANIFEST);
	assert_kind("application/octet-stream", OCI_INDEX, RW_MANIFEST_INDEX, RW_MT_OCI_INDEX);
	assert_kind(NULL, OCI_ANNOTATED, RW_MANIFEST_IMAGE, RW_MT_OCI_MANIFEST);
	assert_kind("", DOCKER_V2, RW_MANIFEST_IMAGE, RW_MT_DOCKER_MANIFEST);
	/* Else its shape. */
	assert_kind("text/plain", S1_UNSIGNED, RW_MANIFEST_SCHEMA1, RW_MT_DOCKER_V1);
	assert_kind("application/json; charset=utf-8", S1_SIGNED, RW_MANIFEST_SCHEMA1,
		RW_MT_DOCKER_V1_SIGNED);
	assert_kind("application/octet-stream", "{\"schemaVersion\":2," OCI_INDEX_MANIFESTS "}",
		RW_MANIFEST_INDEX, RW_MT_OCI_INDEX);
	assert_kind(NULL, OCI_PLAIN, RW_MANIFEST_IMAGE, RW_MT_OCI_MANIFEST);
}

static void body_media_type_wins(void **state)
{
	(void)state;
	assert_kind(RW_MT_DOCKER_MANIFEST, OCI_ANNOTATED, RW_MANIFEST_IMAGE, RW_MT_OCI_MANIFEST);
	assert_kind(RW_MT_OCI_MANIFEST, DOCKER_LIST, RW_MANIFEST_INDEX, RW_MT_DOCKER_LIST);
}

static void unsupported_media_types(void **state)
{
	(void)state;
	/* An OCI 1.1-rc artifact manifest (an SBOM attached to an image). */
	assert_parse_fails("application/vnd.oci.artifact.manifest.v1+json",
		"{\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\","
		"\"artifactType\":\"application/spdx+json\",\"blobs\":[{\"mediaType\":"
		"\"application/spdx+json\",\"digest\":\"" D_BLOB1 "\",\"size\":5512}],"
		"\"subject\":{\"mediaType\":\"" RW_MT_OCI_MANIFEST "\",\"digest\":\"" D_IMG1 "\","
		"\"size\":1052}}",
		"unsupported manifest media type 'application/vnd.oci.artifact.manifest.v1+json'");
	/* Named by the header only. */
	assert_parse_fails("application/vnd.docker.distribution.manifest.v3+json; charset=utf-8",
		OCI_PLAIN,
		"unsupported manifest media type 'application/vnd.docker.distribution.manifest.v3+json'");
	/* The body names it; the generic header does not matter. */
	assert_parse_fails("application/json",
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.plugin.v1+json\"}",
		"unsupported manifest media type 'application/vnd.docker.plugin.v1+json'");
}

static void malformed_json(void **state)
{
	static const char body[] = "{\"schemaVersion\": 2,, \"config\": {}}";
	json_error_t jerr;
	char *want;

	(void)state;
	assert_null(json_loads(body, 0, &jerr));
	want = rw_printf("manifest is not valid JSON: %s", jerr.text);
	assert_parse_fails(RW_MT_DOCKER_MANIFEST, body, want);
	assert_parse_fails(NULL, body, want);
	free(want);
	assert_parse_fails(RW_MT_OCI_MANIFEST, "", "manifest is not valid JSON: "
		"'[' or '{' expected near end of file");
	assert_parse_fails(RW_MT_OCI_MANIFEST, "[1, 2]", "manifest is not a JSON object");
	assert_parse_fails("<html>", "<html>", "manifest is not valid JSON: "
		"'[' or '{' expected near '<'");
}

static void body_is_bounded_by_len(void **state)
{
	static const char buf[] = DOCKER_V2 "trailing bytes past len";
	rw_manifest *m = NULL;

	(void)state;
	assert_int_equal(rw_manifest_parse(&m, RW_MT_DOCKER_MANIFEST, buf, strlen(DOCKER_V2)), 0);
	assert_string_equal(rw_manifest_config_digest(m), D_CONFIG_DOCKER);
	rw_manifest_free(m);
	rw_manifest_free(NULL);
}

static void shapes_checked(void **state)
{
	(void)state;
	assert_parse_fails(NULL, "{\"schemaVersion\":2,\"layers\":[]}", "manifest has no media "
		"type and is neither an image manifest, an index nor a schema 1 manifest");
	assert_parse_fails(RW_MT_DOCKER_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
		RW_MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\"application/vnd.docker."
		"container.image.v1+json\",\"size\":1472}," OCI_LAYERS "}",
		"manifest has no config digest");
	assert_parse_fails(RW_MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"layers\":[]}",
		"manifest has no config digest");
	assert_parse_fails(RW_MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":{\"digest\":"
		"\"sha256:5f00c4ae\"}," OCI_LAYERS "}",
		"manifest has an invalid config digest 'sha256:5f00c4ae'");
	assert_parse_fails(RW_MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":{\"digest\":"
		"7}," OCI_LAYERS "}", "manifest has no config digest");
	assert_parse_fails(RW_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":{}}",
		"index has no manifests array");
}

/* A realistic image config: docker's, with the created field and labels given. */
#define CONFIG(created, labels) \
	"{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:" \
	"/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/app/server\"],\"WorkingDir\":\"/app\"," \
	"\"Labels\":" labels "}," created "\"history\":[{\"created\":\"2024-01-30T22:19:39Z\"," \
	"\"created_by\":\"/bin/sh -c #(nop) ADD file:37a76ec18f9887751cd8473744917d08b7431fc4085" \
	"097bb6a09d81b41775473 in / \"},{\"created\":\"2024-02-03T04:05:06Z\",\"created_by\":" \
	"\"COPY server /app/server # buildkit\",\"comment\":\"buildkit.dockerfile.v0\"}]," \
	"\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_BLOB1 "\",\"" \
	D_BLOB2 "\"]}}"
#define CREATED(s) "\"created\":\"" s "\","
#define LABELS(s) "{\"maintainer\":\"team@example.com\",\"org.opencontainers.image.created\":\"" s "\"}"

#define CONFIG_CREATED 1706933106  /* 2024-02-03T04:05:06Z */
#define LABEL_CREATED 1704164645   /* 2024-01-02T03:04:05Z */
#define FALLBACK 1703406600        /* 2023-12-24T08:30:00Z */

static int config_time(int64_t *t, const char *body, bool has_fallback)
{
	*t = -1;
	return rw_image_config_created(t, body, strlen(body), has_fallback, FALLBACK);
}

static void config_created_present(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(config_time(&t, CONFIG(CREATED("2024-02-03T04:05:06.123456789Z"),
		LABELS("2024-01-02T03:04:05Z")), true), 0);
	assert_int_equal(t, CONFIG_CREATED);
	assert_int_equal(config_time(&t, CONFIG(CREATED("2024-02-03T05:05:06+01:00"), "null"),
		false), 0);
	assert_int_equal(t, CONFIG_CREATED);
	assert_null(rw_error_last());
}

static void config_created_missing_uses_fallback(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(config_time(&t, CONFIG("", LABELS("2024-01-02T03:04:05Z")), true), 0);
	assert_int_equal(t, FALLBACK);
	/* The annotation goes before the label. */
	assert_int_equal(config_time(&t, CONFIG(CREATED("1970-01-01T00:00:00Z"),
		LABELS("2024-01-02T03:04:05Z")), true), 0);
	assert_int_equal(t, FALLBACK);
}

static void config_epoch_uses_label(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(config_time(&t, CONFIG(CREATED("1970-01-01T00:00:00Z"),
		LABELS("2024-01-02T03:04:05Z")), false), 0);
	assert_int_equal(t, LABEL_CREATED);
	assert_int_equal(config_time(&t, CONFIG("", LABELS("2024-01-02T03:04:05Z")), false), 0);
	assert_int_equal(t, LABEL_CREATED);
	assert_int_equal(config_time(&t, CONFIG(CREATED("Jan 2 2024"),
		LABELS("2024-01-02T03:04:05Z")), false), 0);
	assert_int_equal(t, LABEL_CREATED);
}

static void config_undated(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(config_time(&t, CONFIG(CREATED("Jan 2 2024"), "null"), false), RW_ENOTFOUND);
	assert_int_equal(t, -1);
	assert_int_equal(config_time(&t, CONFIG(CREATED("1970-01-01T00:00:00Z"),
		LABELS("1970-01-01T00:00:00Z")), false), RW_ENOTFOUND);
	assert_int_equal(config_time(&t, CONFIG("", LABELS("soon")), false), RW_ENOTFOUND);
	assert_int_equal(config_time(&t, "{\"created\":12345}", false), RW_ENOTFOUND);
	assert_int_equal(config_time(&t, "{}", false), RW_ENOTFOUND);
	/* Only config.Labels, as OCI's config.md spells it, holds labels. */
	assert_int_equal(config_time(&t, "{\"config\":{\"labels\":" LABELS("2024-01-02T03:04:05Z")
		"}}", false), RW_ENOTFOUND);
	assert_int_equal(config_time(&t, "{\"Labels\":" LABELS("2024-01-02T03:04:05Z") "}", false),
		RW_ENOTFOUND);
	assert_int_equal(t, -1);
	assert_null(rw_error_last());
}

static void config_not_json(void **state)
{
	static const char body[] = "{\"architecture\":\"amd64\"";
	json_error_t jerr;
	char *want;
	int64_t t;

	(void)state;
	assert_null(json_loads(body, 0, &jerr));
	want = rw_printf("image config is not valid JSON: %s", jerr.text);
	assert_int_equal(config_time(&t, body, true), RW_ERROR);
	assert_last_error(RW_ERR_PROTOCOL, want);
	free(want);
	assert_int_equal(config_time(&t, "[\"2024-01-02T03:04:05Z\"]", true), RW_ERROR);
	assert_last_error(RW_ERR_PROTOCOL, "image config is not a JSON object");
}

static void assert_payload(const char *content_type, const char *body, const char *want)
{
	rw_buf out = RW_BUF_INIT;

	rw_buf_puts(&out, "left over from before");
	if (rw_manifest_payload(&out, content_type, body, strlen(body)) != 0)
		fail_msg("no payload: %s", rw_error_last()->message);
	assert_int_equal(out.size, strlen(want));
	assert_memory_equal(out.ptr, want, out.size);
	rw_buf_dispose(&out);
}

static void assert_payload_fails(const char *content_type, const char *body, const char *message)
{
	rw_buf out = RW_BUF_INIT;

	assert_int_equal(rw_manifest_payload(&out, content_type, body, strlen(body)), RW_ERROR);
	assert_last_error(RW_ERR_PROTOCOL, message);
	rw_buf_dispose(&out);
}

static void signed_payload_digest(void **state)
{
	rw_buf out = RW_BUF_INIT;
	char digest[RW_DIGEST_MAX];

	(void)state;
	assert_int_equal(rw_manifest_payload(&out, RW_MT_DOCKER_V1_SIGNED, S1_SIGNED,
		strlen(S1_SIGNED)), 0);
	/* 1272: the formatLength in P_OK. */
	assert_int_equal(strlen(S1_HEAD), 1272);
	assert_int_equal(out.size, 1272 + 2);
	assert_memory_equal(out.ptr, S1_PAYLOAD, out.size);
	rw_sha256_digest(digest, out.ptr, out.size);
	assert_string_equal(digest, S1_PAYLOAD_DIGEST);
	/* The payload is a manifest of its own: the same, unsigned. */
	assert_kind(NULL, out.ptr, RW_MANIFEST_SCHEMA1, RW_MT_DOCKER_V1);
	rw_buf_dispose(&out);
}

static void signed_payload_whatever_the_content_type(void **state)
{
	(void)state;
	assert_payload("application/json", S1_SIGNED, S1_PAYLOAD);
	assert_payload(NULL, S1_SIGNED, S1_PAYLOAD);
	assert_payload(RW_MT_DOCKER_V1, S1_SIGNED, S1_PAYLOAD);
	assert_payload(RW_MT_DOCKER_V1_SIGNED "; charset=utf-8", S1_SIGNED, S1_PAYLOAD);
	/* Several signatures over one payload. */
	assert_payload(RW_MT_DOCKER_V1_SIGNED,
		S1_SIGNED_WITH(SIGNATURE(P_OK) ",\n" SIGNATURE(P_OK "==")), S1_PAYLOAD);
}

static void other_manifests_are_their_own_payload(void **state)
{
	(void)state;
	assert_payload(RW_MT_DOCKER_MANIFEST, DOCKER_V2, DOCKER_V2);
	assert_payload(RW_MT_OCI_INDEX, OCI_INDEX, OCI_INDEX);
	assert_payload(NULL, OCI_ANNOTATED, OCI_ANNOTATED);
	assert_payload(RW_MT_DOCKER_V1, S1_UNSIGNED, S1_UNSIGNED);
	assert_payload(RW_MT_DOCKER_V1_SIGNED, S1_PAYLOAD, S1_PAYLOAD);
	/* Not schema 1: "signatures" means nothing there. */
	assert_payload("application/json", "{\"schemaVersion\":2,\"signatures\":[{}]}",
		"{\"schemaVersion\":2,\"signatures\":[{}]}");
	/* Only a signed type must be JSON here; rw_manifest_parse judges the rest. */
	assert_payload(RW_MT_OCI_MANIFEST, "not json", "not json");
	assert_payload("application/json", "not json", "not json");
}

static void broken_signatures(void **state)
{
	json_error_t jerr;
	char *want;

	(void)state;
	assert_payload_fails(RW_MT_DOCKER_V1_SIGNED,
		S1_SIGNED_WITH(SIGNATURE(P_OK) ",\n" SIGNATURE(P_LEN_MINUS)),
		"signed manifest: signatures disagree on the signed payload");
	want = rw_printf("signed manifest: formatLength 100000 is past its end (%zu bytes)",
		strlen(S1_SIGNED_WITH(SIGNATURE(P_LEN_BIG))));
	assert_payload_fails(RW_MT_DOCKER_V1_SIGNED, S1_SIGNED_WITH(SIGNATURE(P_LEN_BIG)), want);
	free(want);
	assert_payload_fails(NULL, S1_SIGNED_WITH(SIGNATURE(P_OK) ",\n" SIGNATURE(P_NO_TAIL)),
		"signed manifest: signature 2 has no valid formatLength and formatTail");
	assert_payload_fails(NULL, S1_SIGNED_WITH(SIGNATURE("e30.")),
		"signed manifest: signature 1 has no valid formatLength and formatTail");
	/* "{}": a protected header without the format. */
	assert_payload_fails(NULL, S1_SIGNED_WITH(SIGNATURE("e30")),
		"signed manifest: signature 1 has no valid formatLength and formatTail");
	assert_payload_fails(NULL, S1_SIGNED_WITH("{\"signature\": \"abc\"}"),
		"signed manifest: signature 1 has no valid formatLength and formatTail");
	assert_null(json_loads("{\"schemaVersion\": 1,", 0, &jerr));
	want = rw_printf("manifest is not valid JSON: %s", jerr.text);
	assert_payload_fails(RW_MT_DOCKER_V1_SIGNED, "{\"schemaVersion\": 1,", want);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(docker_schema2_image, setup),
		cmocka_unit_test_setup(oci_image_with_created_annotation, setup),
		cmocka_unit_test_setup(oci_image_without_annotations, setup),
		cmocka_unit_test_setup(unusable_annotations_are_undated, setup),
		cmocka_unit_test_setup(undated_keeps_the_callers_error, setup),
		cmocka_unit_test_setup(docker_manifest_list, setup),
		cmocka_unit_test_setup(list_selects_platforms, setup),
		cmocka_unit_test_setup(arm64_without_variant_is_v8, setup),
		cmocka_unit_test_setup(oci_index_with_attestations, setup),
		cmocka_unit_test_setup(index_listing_is_deduplicated, setup),
		cmocka_unit_test_setup(index_of_attestations_only, setup),
		cmocka_unit_test_setup(index_entry_with_bad_digest, setup),
		cmocka_unit_test_setup(select_checks_its_arguments, setup),
		cmocka_unit_test_setup(platform_validation, setup),
		cmocka_unit_test_setup(schema1_unsigned, setup),
		cmocka_unit_test_setup(schema1_without_usable_history, setup),
		cmocka_unit_test_setup(schema1_signed, setup),
		cmocka_unit_test_setup(content_type_parameters_and_case_ignored, setup),
		cmocka_unit_test_setup(generic_content_types_read_the_body, setup),
		cmocka_unit_test_setup(body_media_type_wins, setup),
		cmocka_unit_test_setup(unsupported_media_types, setup),
		cmocka_unit_test_setup(malformed_json, setup),
		cmocka_unit_test_setup(body_is_bounded_by_len, setup),
		cmocka_unit_test_setup(shapes_checked, setup),
		cmocka_unit_test_setup(config_created_present, setup),
		cmocka_unit_test_setup(config_created_missing_uses_fallback, setup),
		cmocka_unit_test_setup(config_epoch_uses_label, setup),
		cmocka_unit_test_setup(config_undated, setup),
		cmocka_unit_test_setup(config_not_json, setup),
		cmocka_unit_test_setup(signed_payload_digest, setup),
		cmocka_unit_test_setup(signed_payload_whatever_the_content_type, setup),
		cmocka_unit_test_setup(other_manifests_are_their_own_payload, setup),
		cmocka_unit_test_setup(broken_signatures, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
