/*
 * ua_report.c -- the participant's --report JSON (issue 5 §2): packets
 * received, decrypted and failed per MKI, the epochs held, and the tones
 * heard per source SSRC (Goertzel, media_tone_detect) overall and per MKI.
 * Written to FILE.tmp and renamed, so a reader never sees half a file.
 */
#include "ua.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct ua_mki_stats *ua_mki_slot(struct ua_mki_stats *tab, size_t *n,
				 uint32_t mki)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (tab[i].mki == mki)
			return &tab[i];
	if (*n >= UA_MAX_MKI)
		return NULL;
	memset(&tab[*n], 0, sizeof(tab[*n]));
	tab[*n].mki = mki;
	return &tab[(*n)++];
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_str_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

static void json_ms(FILE *f, const char *name, int64_t ms)
{
	if (ms < 0)
		fprintf(f, "\"%s\": null", name);
	else
		fprintf(f, "\"%s\": %lld", name, (long long)ms);
}

/* The candidate frequencies: the 20 member tones and ours. */
static size_t candidates(double *fr)
{
	size_t n = 0, i;
	bool ours = U.tone_hz <= 0;

	for (i = 0; i < UA_NFREQ; i++) {
		fr[n++] = media_tone_freq((unsigned)i);
		if (fabs(fr[n - 1] - U.tone_hz) < 1.0)
			ours = true;
	}
	if (!ours)
		fr[n++] = U.tone_hz;
	return n;
}

/* The strongest frequency, 300..3400 Hz in 10 Hz steps (2 s at most). */
static double peak_hz(const struct ua_pcm *p)
{
	size_t n = p->n < 16000 ? p->n : 16000;
	double best = 0, best_f = 0, f;

	for (f = 300; f <= 3400; f += 10) {
		double g = media_goertzel(p->s, n, f, MEDIA_RATE);

		if (g > best) {
			best = g;
			best_f = f;
		}
	}
	return best_f;
}

static void json_tones(FILE *f, const struct ua_pcm *p)
{
	struct media_tone_hit hits[UA_NFREQ + 1];
	double fr[UA_NFREQ + 1], ms = 0;
	size_t nf = candidates(fr), i;
	bool first = true;

	fprintf(f, "\"samples\": %zu, \"tones\": [", p->n);
	if (p->n < 400 || !p->s) {
		fprintf(f, "], \"peak_hz\": null");
		return;
	}
	for (i = 0; i < p->n; i++)
		ms += (double)p->s[i] * p->s[i];
	ms /= (double)p->n;
	(void)media_tone_detect(p->s, p->n, fr, nf, 0.05, hits);
	for (i = 0; i < nf; i++) {
		if (!hits[i].present)
			continue;
		fprintf(f,
			"%s{\"hz\": %.0f, \"amplitude\": %.1f, \"share\": "
			"%.3f, \"energy\": %.1f}",
			first ? "" : ", ", hits[i].freq, hits[i].amplitude,
			hits[i].share, hits[i].share * ms);
		first = false;
	}
	fprintf(f, "], \"peak_hz\": %.0f", peak_hz(p));
}

static void json_source(FILE *f, const struct ua_src *s)
{
	/* packets the sender numbered between the first and the newest we
	 * decrypted: any missing one was lost (or failed) on the way */
	uint64_t expected = s->packets ? s->idx_max - s->idx_first + 1 : 0;
	size_t j;

	fprintf(f,
		"    {\"ssrc\": %u, \"ssrc_hex\": \"%08x\", \"packets\": "
		"%llu, \"roc_first\": %u, \"roc_last\": %u, \"expected\": "
		"%llu, \"lost\": %llu, ",
		s->ssrc, s->ssrc, (unsigned long long)s->packets, s->roc_first,
		s->roc_last, (unsigned long long)expected,
		(unsigned long long)(expected > s->packets ?
					     expected - s->packets :
					     0));
	json_ms(f, "first_ms", s->first);
	fputs(", ", f);
	json_ms(f, "last_ms", s->last);
	fputs(", \"wav\": ", f);
	if (s->wav_path[0])
		json_str(f, s->wav_path);
	else
		fputs("null", f);
	fputs(", ", f);
	json_tones(f, &s->pcm);
	fputs(",\n     \"per_mki\": [", f);
	for (j = 0; j < s->nmki; j++) {
		fprintf(f,
			"%s\n      {\"mki\": \"0x%08x\", \"packets\": %llu, ",
			j ? "," : "", s->mki[j].mki,
			(unsigned long long)s->mki[j].packets);
		json_tones(f, &s->mki[j].pcm);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void json_body(FILE *f)
{
	size_t i;

	fputs("{\n  \"identity\": ", f);
	json_str(f, U.cred.identity);
	fputs(",\n  \"focus\": ", f);
	json_str(f, U.focus);
	fprintf(f,
		",\n  \"joined\": %s, \"left\": %s, \"ssrc\": %u, "
		"\"tone_hz\": %.0f, \"rekeys\": %u, \"media_to\": ",
		U.joined ? "true" : "false", U.leaving ? "true" : "false",
		U.ssrc, ua_media_tone(), U.rekeys);
	json_str(f, U.media_to ? U.media_addr : "");
	fputs(",\n  \"ended\": ", f);
	json_str_null(f, U.ended);
	fputs(", \"ended_reason\": ", f);
	json_str_null(f, U.ended_why[0] ? U.ended_why : NULL);
	fprintf(f, ",\n  \"elapsed_ms\": %lld, \"sending_mki\": \"0x%08x\",\n",
		(long long)ua_now(), U.mm ? media_member_sending_mki(U.mm) : 0);
	fprintf(f,
		"  \"sent\": {\"packets\": %llu},\n  \"received\": "
		"{\"packets\": %llu, \"decrypted\": %llu, \"failed\": %llu, "
		"\"unknown_mki\": %llu, \"malformed\": %llu},\n",
		(unsigned long long)U.tx, (unsigned long long)U.rx,
		(unsigned long long)U.rx_ok, (unsigned long long)U.rx_failed,
		(unsigned long long)U.rx_unknown_mki,
		(unsigned long long)U.rx_malformed);
	fputs("  \"per_mki\": [", f);
	for (i = 0; i < U.nmki; i++)
		fprintf(f,
			"%s\n    {\"mki\": \"0x%08x\", \"received\": %llu, "
			"\"decrypted\": %llu, \"failed\": %llu, \"sent\": "
			"%llu}",
			i ? "," : "", U.mki[i].mki,
			(unsigned long long)U.mki[i].rx,
			(unsigned long long)U.mki[i].ok,
			(unsigned long long)U.mki[i].failed,
			(unsigned long long)U.mki[i].tx);
	fputs("],\n  \"epochs\": [", f);
	for (i = 0; i < U.nep; i++) {
		fprintf(f, "%s\n    {\"mki\": \"0x%08x\", \"held\": %s, ",
			i ? "," : "", U.ep[i].mki,
			U.ep[i].held ? "true" : "false");
		json_ms(f, "installed_ms", U.ep[i].installed);
		fputs(", ", f);
		json_ms(f, "send_from_ms", U.ep[i].send_from);
		fputs(", ", f);
		json_ms(f, "retired_ms", U.ep[i].retired);
		fputc('}', f);
	}
	fputs("],\n  \"sources\": [\n", f);
	for (i = 0; i < U.nsrc; i++) {
		json_source(f, &U.src[i]);
		fputs(i + 1 < U.nsrc ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
}

int ua_report_write(const char *path)
{
	char tmp[1024];
	FILE *f;
	int err = 0;

	if (!path)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return errno;
	json_body(f);
	if (ferror(f))
		err = EIO;
	if (fclose(f) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	return err;
}

void ua_status_print(void)
{
	const char *sep = "";
	size_t i;

	printf("status %s focus=%s ssrc=%08x sending_mki=0x%08x sent=%llu "
	       "received=%llu decrypted=%llu failed=%llu epochs=",
	       U.leaving ? "leaving" :
	       U.joined  ? "joined" :
			   "calling",
	       U.focus[0] ? U.focus : "-", U.ssrc,
	       U.mm ? media_member_sending_mki(U.mm) : 0,
	       (unsigned long long)U.tx, (unsigned long long)U.rx,
	       (unsigned long long)U.rx_ok, (unsigned long long)U.rx_failed);
	for (i = 0; i < U.nep; i++)
		if (U.ep[i].held) {
			printf("%s0x%08x", sep, U.ep[i].mki);
			sep = ",";
		}
	printf(" sources=");
	for (i = 0; i < U.nsrc; i++)
		printf("%s%08x:%llu", i ? "," : "", U.src[i].ssrc,
		       (unsigned long long)U.src[i].packets);
	printf("\n");
	fflush(stdout);
}
