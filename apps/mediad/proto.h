/*
 * proto.h -- the confd <-> conclave-mediad control channel (DESIGN.md
 * D10, issue 7 §3), spoken only inside mutual TLS.
 *
 * A frame: u32 length (big-endian, of what follows; 8 .. MPROTO_MAX),
 * u8 op, u8 status (0 in requests; 0 = ok or an errno in answers), u16 0,
 * u32 conference id, then the op's payload (integers big-endian):
 *
 *   CREATE   -> answer: conf id, u16 RTP port, u8 af, 16 B address
 *   DESTROY  (conf)
 *   ADD      u64 member, u8 af (4|6), 16 B address, u16 port, u8 flags
 *   REMOVE   u64 member
 *   SSRCS    u16 n, n x (u32 ssrc, u32 roc, u64 owner): the whole table
 *   SSRC_SET u16 n, n x (u32 ssrc, u32 roc, u64 owner): add or replace
 *   SSRC_DEL u16 n, n x u32 ssrc: remove (absent ones are ignored)
 *   EPOCH    u32 epoch, u32 mki, u8 profile, u8 tek_len, tek,
 *            u8 salt_len, salt                  (keys: wiped after use)
 *   SWITCH   u32 mki
 *   RETIRE   u32 mki
 *   STATS    -> answer: u64 forwarded, u64 dropped
 *   SILENT   u64 age_ms -> answer: u16 n, n x u64 member
 *   MIX      u8 profile, u8 speakers, u8 n, n x u32 focus SSRC (n = 3 +
 *            speakers: the mixer's streams, confd_mixer_nssrcs)
 *   CODEC    u64 member, u8 codec (enum media_mix_codec)
 *   SDES     u64 member, u8 no_mki, u32 grace_ms, u8 n, n x (u8 len,
 *            master key||salt, u8 mki_len, mki, u64 lifetime): an SDES
 *            member's own upstream keys           (keys: wiped after use)
 *   EV_ROC   (mediad -> confd, unsolicited) u32 ssrc, u32 roc
 *
 * Requests are answered in order, one answer each; an error answer has a
 * non-zero status and a short text payload (never key material). confd
 * waits for the answers to CREATE, MIX, SDES, STATS and SILENT only; the
 * others are pipelined and their errors logged when they arrive.
 */
#ifndef CONCLAVE_MEDIAD_PROTO_H
#define CONCLAVE_MEDIAD_PROTO_H

#include <stdint.h>

enum mproto_op {
	MPROTO_CREATE = 1,
	MPROTO_DESTROY,
	MPROTO_ADD,
	MPROTO_REMOVE,
	MPROTO_SSRCS,
	MPROTO_EPOCH,
	MPROTO_SWITCH,
	MPROTO_RETIRE,
	MPROTO_STATS,
	MPROTO_SILENT,
	MPROTO_MIX,
	MPROTO_CODEC,
	MPROTO_SDES,
	MPROTO_SSRC_SET,
	MPROTO_SSRC_DEL,
	MPROTO_EV_ROC = 0x80,
};

enum {
	MPROTO_HDR = 12, /* length + op + status + pad + conf */
	MPROTO_MAX = 65536,
	MPROTO_SSRCS_MAX = 4000,
};

static inline void mproto_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t mproto_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void mproto_put64(uint8_t *p, uint64_t v)
{
	mproto_put32(p, (uint32_t)(v >> 32));
	mproto_put32(p + 4, (uint32_t)v);
}

static inline uint64_t mproto_get64(const uint8_t *p)
{
	return (uint64_t)mproto_get32(p) << 32 | mproto_get32(p + 4);
}

#endif
