/*
 * mixer.h -- confd's media plane in mixing mode (policy media=mix; issue 6
 * §4): one media_mix per conference (include/conclave/mix.h) fed by
 * media.c's receive path, ticked every 20 ms by a libre timer scheduled
 * from an absolute clock, each tick's packets handed back to media.c to
 * send (media_sendq_fanout). Not a public interface.
 */
#ifndef CONCLAVE_CONFD_MIXER_H
#define CONCLAVE_CONFD_MIXER_H

#include "confd.h"

#include <conclave/media.h>

struct confd_mixer;

/** Send pkt to every leg of fan (legs: what confd_mixer_add was given). */
typedef void(confd_mix_send_h)(const uint8_t *pkt, size_t len,
			       const struct media_fanout *fan, void *arg);

/** Opus's payload type in a mixing conference (offers with Opus under
 *  another PT and no G.711 are refused: one common packet per codec). */
#define CONFD_OPUS_PT 96

/** How many focus SSRCs a conference under policy p reserves: 1 (the
 *  focus's SSRC) in switching mode, 3 + speakers in mixing mode (the
 *  PCMU common mix, the N-1 places, the PCMA and Opus common mixes). */
size_t confd_mixer_nssrcs(const struct conf_policy *p);

/** Fill ssrc[0..n) with distinct random SSRCs (none 0). 0 or an errno. */
int confd_mixer_ssrcs(uint32_t *ssrc, size_t n);

/**
 * A mixer (a libre object: mem_deref frees it, wiping its keys) with
 * p->speakers speaker places; ssrcs: confd_mixer_nssrcs(p) focus SSRCs
 * reserved in core (the common mix first). oh answers who owns an SSRC
 * (the conference's registry), sendh sends each tick's packets, roch
 * reports the ROC changes of the mixer's own streams. The 20 ms tick
 * starts at once. 0, EINVAL, ENOMEM or ENOTSUP (no such codec).
 */
int confd_mixer_alloc(struct confd_mixer **xp, const struct conf_policy *p,
		      const uint32_t *ssrcs, const char *name,
		      media_owner_h *oh, confd_mix_send_h *sendh,
		      confd_roc_h *roch, void *arg);

/** A member's packet (as media_mix_rx). */
enum cc_err confd_mixer_rx(struct confd_mixer *x, conf_mid mid,
			   const uint8_t *pkt, size_t len,
			   struct media_rx_info *info);

/** A member hears the mix and may speak; leg is its send handle. */
int confd_mixer_add(struct confd_mixer *x, conf_mid mid, void *leg);
/** A member's output codec (enum media_mix_codec): 0, EINVAL (not in the
 *  mix) or ENOTSUP (no such class, e.g. no libopus). */
int confd_mixer_codec(struct confd_mixer *x, conf_mid mid, int codec);
/** Out of the mix (no-op if absent). */
void confd_mixer_remove(struct confd_mixer *x, conf_mid mid);
/** NEW_EPOCH, SWITCH_MKI, RETIRE_EPOCH; others ignored. */
void confd_mixer_action(struct confd_mixer *x, const struct conf_action *a);
/** Copies of mixed packets handed to the sender (one per listener). */
uint64_t confd_mixer_copies(const struct confd_mixer *x);

#endif
