/*
 * mikey_wire.h -- every MIKEY / MIKEY-TICKET code point we use, with the
 * RFC section beside it (STYLE.md habit 8). Values from RFC 3830 §6,
 * RFC 4563, RFC 6043 §6 and the IANA "MIKEY Payload Name Spaces" registry
 * (spec/mikey-core.md §3-4, spec/mikey-ticket.md §3).
 */
#ifndef CONCLAVE_MIKEY_WIRE_H
#define CONCLAVE_MIKEY_WIRE_H

enum {
	MIKEY_VERSION = 1
}; /* RFC 3830 §6.1 */

/* HDR data type. RFC 3830 Table 6.1.a, RFC 6043 Table 6.1 */
enum mikey_data_type {
	MIKEY_DT_PSK_INIT = 0,
	MIKEY_DT_PSK_RESP = 1,
	MIKEY_DT_PK_INIT = 2,
	MIKEY_DT_PK_RESP = 3,
	MIKEY_DT_DH_INIT = 4,
	MIKEY_DT_DH_RESP = 5,
	MIKEY_DT_ERROR = 6,
	MIKEY_DT_REQUEST_INIT_PSK = 11,
	MIKEY_DT_REQUEST_INIT_PK = 12,
	MIKEY_DT_REQUEST_RESP = 13,
	MIKEY_DT_TRANSFER_INIT = 14,
	MIKEY_DT_TRANSFER_RESP = 15,
	MIKEY_DT_RESOLVE_INIT_PSK = 16,
	MIKEY_DT_RESOLVE_INIT_PK = 17,
	MIKEY_DT_RESOLVE_RESP = 18,
};

/* Next payload. RFC 3830 Table 6.1.b, RFC 6043 Table 6.2 */
enum mikey_pt {
	MIKEY_PT_LAST = 0,
	MIKEY_PT_KEMAC = 1,
	MIKEY_PT_PKE = 2,
	MIKEY_PT_DH = 3,
	MIKEY_PT_SIGN = 4,
	MIKEY_PT_T = 5,
	MIKEY_PT_ID = 6,
	MIKEY_PT_CERT = 7,
	MIKEY_PT_CHASH = 8,
	MIKEY_PT_V = 9,
	MIKEY_PT_SP = 10,
	MIKEY_PT_RAND = 11,
	MIKEY_PT_ERR = 12,
	MIKEY_PT_TR = 13,     /* RFC 6043 §6.4 */
	MIKEY_PT_IDR = 14,    /* RFC 6043 §6.6 */
	MIKEY_PT_RANDR = 15,  /* RFC 6043 §6.8 */
	MIKEY_PT_TP = 16,     /* RFC 6043 §6.10 */
	MIKEY_PT_TICKET = 17, /* RFC 6043 §6.10 */
	MIKEY_PT_KEYDATA = 20,
	MIKEY_PT_GENEXT = 21,
	/* Not a wire value: the base ticket's THDR, which is implicit
	 * (Ticket Data starts with it, RFC 6043 App. A.3). */
	MIKEY_PT_THDR = 256,
};

/* PRF func. RFC 3830 Table 6.1.c, RFC 6043 Table 6.3 */
enum mikey_prf {
	MIKEY_PRF_MIKEY1 = 0,
	MIKEY_PRF_HMAC_SHA256 = 1,
};

/* CS ID map type. RFC 3830 §6.1, RFC 4563 §5, RFC 6043 Table 6.4 */
enum mikey_map_type {
	MIKEY_MAP_SRTP_ID = 0,
	MIKEY_MAP_EMPTY = 1,
	MIKEY_MAP_GENERIC_ID = 2,
};

/* KEMAC Encr alg. RFC 3830 Table 6.2.a, RFC 6043 Table 6.5 */
enum mikey_encr {
	MIKEY_ENCR_NULL = 0,
	MIKEY_ENCR_AES_CM_128 = 1,
	MIKEY_ENCR_AES_KW_128 = 2,
	MIKEY_ENCR_AES_CM_256 = 3,
};

/* KEMAC MAC alg / V Auth alg. RFC 3830 Table 6.2.b, RFC 6043 Table 6.6 */
enum mikey_mac {
	MIKEY_MAC_NULL = 0,
	MIKEY_MAC_HMAC_SHA1_160 = 1,
	MIKEY_MAC_HMAC_SHA256_256 = 2,
};

/* TS type. RFC 3830 Table 6.6.a, RFC 6043 §6.3 */
enum mikey_ts_type {
	MIKEY_TS_NTP_UTC = 0,
	MIKEY_TS_NTP = 1,
	MIKEY_TS_COUNTER = 2,
	MIKEY_TS_NTP_UTC_32 = 3,
};

/* TS role (TR). RFC 6043 Table 6.9 */
enum mikey_ts_role {
	MIKEY_TSR_ISSUE = 1,
	MIKEY_TSR_START = 2,
	MIKEY_TSR_END = 3,
	MIKEY_TSR_REKEY = 4,
};

/* ID type. RFC 3830 Table 6.7.a, RFC 6043 Table 6.10 */
enum mikey_id_type {
	MIKEY_ID_NAI = 0,
	MIKEY_ID_URI = 1,
	MIKEY_ID_BYTES = 2,
};

/* ID role (IDR). RFC 6043 Table 6.11, RFC 6509 §7 */
enum mikey_id_role {
	MIKEY_IDR_I = 1,
	MIKEY_IDR_R = 2,
	MIKEY_IDR_KMS = 3,
	MIKEY_IDR_PSK = 4,
	MIKEY_IDR_APP = 5,
	MIKEY_IDR_KMSI = 6,
	MIKEY_IDR_KMSR = 7,
};

/* RAND role (RANDR). RFC 6043 Table 6.12 */
enum mikey_rand_role {
	MIKEY_RANDR_I = 1,
	MIKEY_RANDR_R = 2,
	MIKEY_RANDR_KMS = 3,
};

/* SP Prot type. RFC 3830 Table 6.10.a */
enum {
	MIKEY_PROT_SRTP = 0,
	MIKEY_PROT_TESLA = 1
};

/* SRTP policy parameter types. RFC 3830 Table 6.10.1.a, RFC 4771, RFC 7714 */
enum mikey_srtp_param {
	MIKEY_SRTP_ENCR_ALG = 0,
	MIKEY_SRTP_ENCR_KEY_LEN = 1,
	MIKEY_SRTP_AUTH_ALG = 2,
	MIKEY_SRTP_AUTH_KEY_LEN = 3,
	MIKEY_SRTP_SALT_LEN = 4,
	MIKEY_SRTP_PRF = 5,
	MIKEY_SRTP_KDR = 6,
	MIKEY_SRTP_ENCR_ON = 7,
	MIKEY_SRTCP_ENCR_ON = 8,
	MIKEY_SRTP_FEC_ORDER = 9,
	MIKEY_SRTP_AUTH_ON = 10,
	MIKEY_SRTP_AUTH_TAG_LEN = 11,
	MIKEY_SRTP_PREFIX_LEN = 12,
	MIKEY_SRTP_ROC_RATE = 13, /* RFC 4771 */
	MIKEY_SRTP_SRTP_AUTH = 14,
	MIKEY_SRTP_SRTCP_AUTH = 15,
	MIKEY_SRTP_SRTP_AUTH_KEYLEN = 16,
	MIKEY_SRTP_SRTCP_AUTH_KEYLEN = 17,
	MIKEY_SRTP_SRTP_AUTH_TAGLEN = 18,
	MIKEY_SRTP_SRTCP_AUTH_TAGLEN = 19,
	MIKEY_SRTP_AEAD_TAG_LEN = 20, /* RFC 7714 §12 */
	MIKEY_SRTP_PARAM__COUNT
};

/* SRTP encryption algorithm values (param 0). RFC 3830, RFC 5748, RFC 7714 */
enum mikey_srtp_encr {
	MIKEY_SRTP_ENCR_NULL = 0,
	MIKEY_SRTP_ENCR_AES_CM = 1,
	MIKEY_SRTP_ENCR_AES_F8 = 2,
	MIKEY_SRTP_ENCR_AES_GCM = 6, /* RFC 7714 §14.1 */
};

/* SRTP authentication algorithm values (param 2). */
enum mikey_srtp_auth {
	MIKEY_SRTP_AUTH_NULL = 0,
	MIKEY_SRTP_AUTH_HMAC_SHA1 = 1,
};

/* Error no. RFC 3830 Table 6.12.a, RFC 4738, RFC 6043 Table 6.14 */
enum mikey_errno {
	MIKEY_ERR_AUTH_FAILURE = 0,
	MIKEY_ERR_INVALID_TS = 1,
	MIKEY_ERR_INVALID_PRF = 2,
	MIKEY_ERR_INVALID_MAC = 3,
	MIKEY_ERR_INVALID_EA = 4,
	MIKEY_ERR_INVALID_HA = 5,
	MIKEY_ERR_INVALID_DH = 6,
	MIKEY_ERR_INVALID_ID = 7,
	MIKEY_ERR_INVALID_CERT = 8,
	MIKEY_ERR_INVALID_SP = 9,
	MIKEY_ERR_INVALID_SPPAR = 10,
	MIKEY_ERR_INVALID_DT = 11,
	MIKEY_ERR_UNSPECIFIED = 12,
	MIKEY_ERR_UNSUPPORTED_MSG = 13,
	MIKEY_ERR_INVALID_TICKET = 14,
	MIKEY_ERR_INVALID_TPPAR = 15,
};

/* Key data Type. RFC 3830 Table 6.13.a, RFC 6043 Table 6.7 */
enum mikey_key_type {
	MIKEY_KEY_TGK = 0,
	MIKEY_KEY_TGK_SALT = 1,
	MIKEY_KEY_TEK = 2,
	MIKEY_KEY_TEK_SALT = 3,
	MIKEY_KEY_GTGK = 4,
	MIKEY_KEY_GTGK_SALT = 5,
	MIKEY_KEY_MPK = 6,
};

/* Key validity. RFC 3830 Table 6.13.b */
enum mikey_kv {
	MIKEY_KV_NULL = 0,
	MIKEY_KV_SPI = 1,
	MIKEY_KV_INTERVAL = 2,
};

/* General Extension type. RFC 3830 §6.15, RFC 4563 §4, IANA */
enum mikey_genext {
	MIKEY_GENEXT_VENDOR = 0,
	MIKEY_GENEXT_SDP_IDS = 1,
	MIKEY_GENEXT_TESLA = 2,
	MIKEY_GENEXT_KEY_ID = 3,
	MIKEY_GENEXT_CSB_ID = 4,
	MIKEY_GENEXT_OMA = 5,
};

/* Ticket Type. RFC 6043 Table 6.15; base ticket subtype/version App. A */
enum {
	MIKEY_TICKET_BASE = 1,
	MIKEY_TICKET_3GPP = 2,
	MIKEY_TICKET_BASE_SUBTYPE = 1,
	MIKEY_TICKET_BASE_VERSION = 1,
};

/* Ticket policy flags, as a 16-bit host value: byte 6 (E..L) in the high
 * byte, byte 7 (M N O) in the low byte. D lives in byte 5 and is kept here
 * as bit 0x0001 for convenience (byte 7's reserved bits are never set).
 * RFC 6043 §6.10. */
enum mikey_tp_flag {
	MIKEY_TPF_E = 0x8000, /* Ticket Resolve mandatory */
	MIKEY_TPF_F = 0x4000, /* TRANSFER_RESP shall be sent */
	MIKEY_TPF_G = 0x2000, /* Responder generates RANDRr */
	MIKEY_TPF_H = 0x1000, /* TGK derivations include RANDRi */
	MIKEY_TPF_I = 0x0800, /* key forking */
	MIKEY_TPF_J = 0x0400, /* ticket may be reused */
	MIKEY_TPF_K = 0x0200, /* KMS changed the desired policy */
	MIKEY_TPF_L = 0x0100, /* Initiator may supply keys */
	MIKEY_TPF_M = 0x0080, /* Responder may supply keys */
	MIKEY_TPF_N = 0x0040, /* Initiator can build TRANSFER_INIT per 6043 */
	MIKEY_TPF_O = 0x0020, /* Responder can process per 6043 */
	MIKEY_TPF_D = 0x0001, /* ticket generated by the KMS (byte 5 bit 7) */
};

/* Key-derivation constants. RFC 3830 §4.1.3-4.1.4, RFC 6043 §5.1, App. A.2 */
enum {
	MIKEY_C_ENCR = 0x150533E1,
	MIKEY_C_AUTH = 0x2D22AC75,
	MIKEY_C_SALT = 0x29B88916,
	MIKEY_C_TEK = 0x2AD01C64,
	MIKEY_C_TEK_AUTH = 0x1B5C7973,
	MIKEY_C_TEK_ENCR = 0x15798CEF,
	MIKEY_C_TEK_SALT = 0x39A2C14B,
	MIKEY_C_FORK_MPKR = 0x2B288856,
	MIKEY_C_FORK_TGK = 0x1512B54A,
	MIKEY_C_MPKI = 0x220E99A2,
	MIKEY_C_MPKR = 0x1F4D675B,
};

/* Label type byte after 0xFFFFFFFF. RFC 6043 §5.1 (spec/mikey-ticket.md §5.7) */
enum {
	MIKEY_LBL_FORK = 0x00,
	MIKEY_LBL_INIT = 0x01,
	MIKEY_LBL_RESP = 0x02,
	MIKEY_LBL_TEK = 0x03,
	MIKEY_LBL_VR = 0x04,
	MIKEY_LBL_TPK = 0x05,
	MIKEY_LBL_MPK = 0x06,
};

/* Sizes */
enum {
	MIKEY_HDR_FIXED = 10,
	MIKEY_SRTP_ID_ENTRY = 9,
	MIKEY_MAX_KEY = 64, /* longest key/salt we accept in key data */
	MIKEY_MAX_MAC = 32,
	MIKEY_CSB_ID_TICKET = 0xFFFFFFFFu, /* RFC 6043 App. A.1 */
};

#endif
