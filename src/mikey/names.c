/*
 * names.c -- human names for MIKEY code points (spec/mikey-core.md §3-4).
 */
#include <conclave/mikey.h>

#define NAME(tab, v) \
	((v) < sizeof(tab) / sizeof(tab[0]) && tab[v] ? tab[v] : "unknown")

const char *mikey_data_type_name(unsigned v)
{
	static const char *const tab[] = {
		"PSK init",        "PSK verification", "PK init",
		"PK verification", "DH init",          "DH resp",
		"Error",           "DHHMAC init",      "DHHMAC resp",
		"RSA-R I_MSG",     "RSA-R R_MSG",      "REQUEST_INIT_PSK",
		"REQUEST_INIT_PK", "REQUEST_RESP",     "TRANSFER_INIT",
		"TRANSFER_RESP",   "RESOLVE_INIT_PSK", "RESOLVE_INIT_PK",
		"RESOLVE_RESP",
	};
	return NAME(tab, v);
}

const char *mikey_pt_name(unsigned v)
{
	static const char *const tab[] = {
		[0] = "Last",      [1] = "KEMAC",        [2] = "PKE",
		[3] = "DH",        [4] = "SIGN",         [5] = "T",
		[6] = "ID",        [7] = "CERT",         [8] = "CHASH",
		[9] = "V",         [10] = "SP",          [11] = "RAND",
		[12] = "ERR",      [13] = "TR",          [14] = "IDR",
		[15] = "RANDR",    [16] = "TP",          [17] = "TICKET",
		[20] = "Key data", [21] = "General Ext",
	};
	if (v == MIKEY_PT_THDR)
		return "THDR";
	return NAME(tab, v);
}

const char *mikey_errno_name(unsigned v)
{
	static const char *const tab[] = {
		"Auth failure",      "Invalid TS",
		"Invalid PRF",       "Invalid MAC",
		"Invalid EA",        "Invalid HA",
		"Invalid DH",        "Invalid ID",
		"Invalid Cert",      "Invalid SP",
		"Invalid SPpar",     "Invalid DT",
		"Unspecified error", "Unsupported message type",
		"Invalid TICKET",    "Invalid TPpar",
	};
	return NAME(tab, v);
}
