/*
 * Image manifests and image configs: what kind a manifest is, which blob
 * or child manifest holds an image's creation time, and that time.
 *
 * Media types: Docker schema2 manifest and manifest list, OCI image manifest
 * and index, Docker schema1 (plain and signed).
 */
#ifndef REWIND_MANIFEST_H
#define REWIND_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rewind/util.h"

#define RW_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RW_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RW_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RW_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define RW_MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define RW_MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header of every manifest request: all the types above. */
#define RW_MANIFEST_ACCEPT \
	RW_MT_OCI_INDEX ", " RW_MT_DOCKER_LIST ", " RW_MT_OCI_MANIFEST ", " \
	RW_MT_DOCKER_MANIFEST ", " RW_MT_DOCKER_V1_SIGNED ", " RW_MT_DOCKER_V1

typedef enum {
	RW_MANIFEST_IMAGE,   /* schema2 or OCI manifest: time is in the config blob */
	RW_MANIFEST_INDEX,   /* manifest list or OCI index: pick a platform */
	RW_MANIFEST_SCHEMA1, /* time is in history[].v1Compatibility */
} rw_manifest_kind;

typedef struct rw_manifest rw_manifest;

/*
 * Parses a manifest. content_type is the response's Content-Type (may be
 * NULL or generic: the kind is then read from the body's mediaType and
 * shape). RW_ERR_PROTOCOL error with the reason when it is not a manifest
 * rewind understands.
 */
int rw_manifest_parse(rw_manifest **out, const char *content_type, const char *body, size_t len);
rw_manifest_kind rw_manifest_kind_of(const rw_manifest *m);
/* The media type (from the body, else the Content-Type). */
const char *rw_manifest_media_type(const rw_manifest *m);
/* IMAGE: the config blob's digest. */
const char *rw_manifest_config_digest(const rw_manifest *m);

/*
 * The creation time a manifest itself gives: SCHEMA1 the newest `created` of
 * its history; IMAGE and INDEX the annotation org.opencontainers.image.created.
 * RW_ENOTFOUND (no error set) when it gives none usable.
 */
int rw_manifest_created(int64_t *out, const rw_manifest *m);

/*
 * INDEX: the digest of the manifest for platform "os/arch[/variant]".
 * RW_ENOTFOUND with an RW_ERR_PROTOCOL error listing the platforms there are.
 */
int rw_manifest_select_platform(const char **digest, const rw_manifest *m, const char *platform);

void rw_manifest_free(rw_manifest *m);

/* Checks "os/arch[/variant]" (RW_ERR_USAGE otherwise). */
int rw_platform_validate(const char *platform);

/*
 * The creation time of an image from its config blob: `created` when it is
 * usable (present, RFC 3339, not the 1970 epoch); else `fallback` when
 * has_fallback (the manifest's annotation); else the config label
 * org.opencontainers.image.created. RW_ENOTFOUND (no error set) when there
 * is none: the image is undated. RW_ERROR when the blob is not JSON.
 */
int rw_image_config_created(int64_t *out, const char *body, size_t len,
	bool has_fallback, int64_t fallback);

/*
 * Signed schema1 manifests are digested without their signatures: the
 * payload is the body cut at the JWS header's formatLength plus its
 * formatTail. Other manifests are their own payload.
 */
int rw_manifest_payload(rw_buf *out, const char *content_type, const char *body, size_t len);

#endif
