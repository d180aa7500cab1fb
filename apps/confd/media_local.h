/*
 * media_local.h -- the in-process media plane (media.c) under its own
 * names: CMake compiles media.c with confd_media_X=confd_mlocal_X, so
 * media_remote.c can put a dispatcher under the confd.h names (local by
 * default, a conclave-mediad when `media remote` is configured), and
 * conclave-mediad runs the very same switch.
 */
#ifndef CONCLAVE_CONFD_MEDIA_LOCAL_H
#define CONCLAVE_CONFD_MEDIA_LOCAL_H

#include "confd.h"

int confd_mlocal_alloc(struct confd_media **mp, const char *ip,
		       struct conf *core, const char *name, confd_roc_h *roch,
		       void *arg);
int confd_mlocal_mix(struct confd_media *m, const struct conf_policy *p,
		     const uint32_t *ssrcs);
uint16_t confd_mlocal_port(const struct confd_media *m);
int confd_mlocal_add(struct confd_media *m, conf_mid mid, const struct sa *rtp);
int confd_mlocal_codec(struct confd_media *m, conf_mid mid, int codec);
void confd_mlocal_remove(struct confd_media *m, conf_mid mid);
int confd_mlocal_sdes(struct confd_media *m, conf_mid mid,
		      const struct media_upkey *k, size_t n, bool no_mki,
		      uint64_t grace_ms);
void confd_mlocal_action(struct confd_media *m, const struct conf_action *a);
void confd_mlocal_stats(const struct confd_media *m, uint64_t *fwd,
			uint64_t *drops);
size_t confd_mlocal_silent(const struct confd_media *m, uint64_t before,
			   conf_mid *out, size_t max);

#endif
