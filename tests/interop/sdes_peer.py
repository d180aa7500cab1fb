#!/usr/bin/env python3
"""sdes_peer.py -- a minimal SIP/UDP + SDES-SRTP caller, written only to
probe a third-party phone (baresip 1.0.0) on loopback: what it answers to
a=crypto offers (several suites, MKI, lifetime), whether it decrypts our
SRTP, with and without an MKI, and whether a re-INVITE with a new
a=crypto (a rekey) is honoured. TEST ONLY: keys are random and printed.

usage: sdes_peer.py --target sip:bob@127.0.0.1:PORT --sip-port P
         --rtp-port R --seconds S [--mki] [--rekey-at T] [--suites LIST]
         [--lifetime] [--record out.wav] [--report out.json]

It sends a 440 Hz PCMU tone as AES_CM_128_HMAC_SHA1_80 SRTP (own code on
python3-cryptography's AES-CTR, RFC 3711 key derivation, kdr 0), and
decrypts what the peer sends with the key from its answer (written to
--record as 8 kHz mono WAV). The JSON report holds the SDP offer and
answers, packet counts, lengths, and how many packets failed our check.
"""
import argparse, base64, hashlib, hmac, json, math, os, random, re, socket
import struct, sys, time, wave

try:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError:
    print("SKIP: python3 cryptography module missing")
    sys.exit(77)


def aes_ctr(key, iv, n):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(b"\0" * n)


def kdf(mkey, msalt, label, n):
    x = int.from_bytes(msalt, "big") ^ (label << 48)
    return aes_ctr(mkey, (x << 16).to_bytes(16, "big"), n)


class Srtp:
    """AES_CM_128_HMAC_SHA1_80, one direction, one SSRC, ROC tracked by
    wrap of the sequence number (enough for a short test)."""

    def __init__(self, master):
        assert len(master) == 30
        mk, ms = master[:16], master[16:]
        self.ke = kdf(mk, ms, 0, 16)
        self.ka = kdf(mk, ms, 1, 20)
        self.ks = kdf(mk, ms, 2, 14)
        self.roc = 0
        self.last = None

    def _iv(self, ssrc, idx):
        v = (int.from_bytes(self.ks, "big") << 16) ^ (ssrc << 64) ^ (idx << 16)
        return v.to_bytes(16, "big")

    def protect(self, pkt, seq, ssrc, mki=b""):
        if self.last is not None and seq < self.last:
            self.roc += 1
        self.last = seq
        idx = (self.roc << 16) | seq
        hdr, pl = pkt[:12], pkt[12:]
        ks = aes_ctr(self.ke, self._iv(ssrc, idx), len(pl))
        enc = hdr + bytes(a ^ b for a, b in zip(pl, ks))
        tag = hmac.new(self.ka, enc + struct.pack(">I", self.roc),
                       hashlib.sha1).digest()[:10]
        return enc + mki + tag

    def unprotect(self, pkt, mki_len=0):
        if len(pkt) < 12 + 10 + mki_len:
            return None
        seq, ssrc = struct.unpack(">H", pkt[2:4])[0], struct.unpack(
            ">I", pkt[8:12])[0]
        roc = self.roc
        if self.last is not None and seq < self.last and self.last - seq > 0x8000:
            roc += 1
        body, tag = pkt[:-10 - mki_len], pkt[-10:]
        want = hmac.new(self.ka, body + struct.pack(">I", roc),
                        hashlib.sha1).digest()[:10]
        if not hmac.compare_digest(want, tag):
            return None
        self.roc, self.last = roc, seq
        idx = (roc << 16) | seq
        ks = aes_ctr(self.ke, self._iv(ssrc, idx), len(body) - 12)
        return body[:12] + bytes(a ^ b for a, b in zip(body[12:], ks))


def ulaw_enc(s):
    BIAS, CLIP = 0x84, 32635
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), CLIP) + BIAS
    exp, m = 7, 0x4000
    while exp > 0 and not (s & m):
        exp -= 1
        m >>= 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def ulaw_dec(u):
    u = ~u & 0xFF
    sign, exp, mant = u & 0x80, (u >> 4) & 7, u & 0x0F
    s = (((mant << 3) + 0x84) << exp) - 0x84
    return -s if sign else s


SUITE_LEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
             "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--sip-port", type=int, required=True)
    ap.add_argument("--rtp-port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--mki", action="store_true",
                    help="offer |1:4 and send a 4-byte MKI in each packet")
    ap.add_argument("--lifetime", action="store_true",
                    help="offer a |2^31 lifetime")
    ap.add_argument("--rekey-at", type=float, default=0,
                    help="re-INVITE with a new a=crypto key after T s")
    ap.add_argument("--suites", default="AES_CM_128_HMAC_SHA1_80",
                    help="comma list, offered in this order (tags 1..n)")
    ap.add_argument("--record", default="")
    ap.add_argument("--report", default="")
    a = ap.parse_args()

    m = re.match(r"sip:([^@]+)@([\d.]+):(\d+)", a.target)
    peer = (m.group(2), int(m.group(3)))
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", a.sip_port))
    sip.settimeout(0.02)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", a.rtp_port))
    rtp.setblocking(False)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind(("127.0.0.1", a.rtp_port + 1))
    rtcp.setblocking(False)

    rep = {"offers": [], "answers": [], "sent": 0, "received": 0,
           "recv_ok": 0, "recv_bad": 0, "recv_lengths": {}, "errors": []}
    callid = "%x@127.0.0.1" % random.getrandbits(64)
    ftag = "%x" % random.getrandbits(32)
    state = {"cseq": 1, "ttag": None, "contact": a.target, "route": peer}
    keys = {}

    def new_keys(tag_base):
        out = []
        for i, s in enumerate(a.suites.split(",")):
            k = os.urandom(SUITE_LEN[s])
            keys[(tag_base, s)] = k
            p = "inline:" + base64.b64encode(k).decode()
            if a.lifetime or a.mki:
                p += "|2^31"
            if a.mki:
                p += "|%d:4" % tag_base
            out.append("a=crypto:%d %s %s" % (i + 1, s, p))
        return out

    def sdp(crypto, ver):
        return ("v=0\r\no=- 1 %d IN IP4 127.0.0.1\r\ns=-\r\n"
                "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=sendrecv\r\na=ptime:20\r\n%s\r\n" %
                (ver, a.rtp_port, "\r\n".join(crypto)))

    def send_req(method, body=""):
        cseq = state["cseq"]
        if method != "ACK":
            state["cseq"] += 1
        to = "<%s>" % a.target + (";tag=" + state["ttag"] if state["ttag"] else "")
        msg = ("%s %s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%x;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=%s\r\n"
               "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
               "Contact: <sip:probe@127.0.0.1:%d>\r\n" %
               (method, state["contact"], a.sip_port,
                random.getrandbits(48), ftag, to, callid,
                cseq - 1 if method == "ACK" else cseq, method, a.sip_port))
        if body:
            msg += "Content-Type: application/sdp\r\n"
        msg += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
        sip.sendto(msg.encode(), state["route"])
        return cseq

    def wait_final(cseq, method, limit=5):
        end = time.time() + limit
        while time.time() < end:
            try:
                d, src = sip.recvfrom(65535)
            except socket.timeout:
                pump()
                continue
            t = d.decode(errors="replace")
            head, _, body = t.partition("\r\n\r\n")
            if not head.startswith("SIP/2.0"):
                # a request from the peer (e.g. BYE): 200 it
                lines = [l for l in head.split("\r\n")
                         if re.match(r"(?i)(via|from|to|call-id|cseq):", l)]
                sip.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
                            "\r\nContent-Length: 0\r\n\r\n").encode(), src)
                rep["errors"].append("peer request: " + head.split("\r\n")[0])
                continue
            code = int(head.split()[1])
            cs = re.search(r"(?im)^CSeq:\s*(\d+)\s+(\w+)", head)
            if not cs or int(cs.group(1)) != cseq or cs.group(2) != method:
                continue
            if code < 200:
                continue
            tt = re.search(r"(?im)^To:.*;tag=([^;\s]+)", head)
            if tt:
                state["ttag"] = tt.group(1)
            ct = re.search(r"(?im)^(Contact|m):.*<([^>]+)>", head)
            if ct and method == "INVITE":
                state["contact"] = ct.group(2)
            return code, body
        return 0, ""

    # media state
    media = {"tx": None, "rx": None, "mki": b"", "seq": random.randrange(
        0, 1000), "ts": random.getrandbits(32), "ssrc": random.getrandbits(32),
        "rx_mki_len": 0}
    pcm = []
    t0 = [time.time()]
    nxt = [time.time()]
    phase = [0]

    def pump():
        now = time.time()
        while media["tx"] and now >= nxt[0]:
            pl = bytes(ulaw_enc(int(8000 * math.sin(2 * math.pi * 440 *
                       (phase[0] + i) / 8000))) for i in range(160))
            phase[0] += 160
            hdr = struct.pack(">BBHII", 0x80, 0, media["seq"], media["ts"],
                              media["ssrc"])
            pkt = media["tx"].protect(hdr + pl, media["seq"], media["ssrc"],
                                      media["mki"])
            rtp.sendto(pkt, media["raddr"])
            rep["sent"] += 1
            media["seq"] = (media["seq"] + 1) & 0xFFFF
            media["ts"] = (media["ts"] + 160) & 0xFFFFFFFF
            nxt[0] += 0.02
        for s in (rtp, rtcp):
            while True:
                try:
                    d, _ = s.recvfrom(2048)
                except BlockingIOError:
                    break
                if s is rtcp:
                    continue
                rep["received"] += 1
                L = str(len(d))
                rep["recv_lengths"][L] = rep["recv_lengths"].get(L, 0) + 1
                p = media["rx"].unprotect(d, media["rx_mki_len"]) \
                    if media["rx"] else None
                if p is None:
                    rep["recv_bad"] += 1
                    continue
                rep["recv_ok"] += 1
                if p[1] & 0x7F == 0:
                    pcm.extend(ulaw_dec(b) for b in p[12:])

    def apply_answer(body, tag_base):
        c = re.search(r"(?m)^a=crypto:(\d+) (\S+) inline:([^|\s]+)(\S*)", body)
        port = re.search(r"(?m)^m=audio (\d+) (\S+)", body)
        if not c or not port:
            rep["errors"].append("answer without a=crypto or m=audio")
            return False
        tag, suite, key, rest = c.groups()
        media["raddr"] = ("127.0.0.1", int(port.group(1)))
        if suite != "AES_CM_128_HMAC_SHA1_80":
            rep["errors"].append("answered suite %s: media not tested" % suite)
            return False
        offered = a.suites.split(",")[int(tag) - 1]
        media["tx"] = Srtp(keys[(tag_base, offered)])
        if media["rx"] is None or media["rx_key"] != key:
            media["rx"] = Srtp(base64.b64decode(key))
            media["rx_key"] = key
        m2 = re.search(r"\|(\d+):(\d+)", rest)
        media["rx_mki_len"] = int(m2.group(2)) if m2 else 0
        media["mki"] = struct.pack(">I", tag_base) if a.mki else b""
        return True

    off = sdp(new_keys(1), 1)
    rep["offers"].append(off)
    cs = send_req("INVITE", off)
    code, ans = wait_final(cs, "INVITE")
    rep["answers"].append({"code": code, "sdp": ans})
    if code != 200:
        rep["errors"].append("INVITE answered %d" % code)
    else:
        send_req("ACK")
        if apply_answer(ans, 1):
            nxt[0] = time.time()
    end = time.time() + a.seconds
    rekeyed = False
    while time.time() < end and code == 200:
        if a.rekey_at and not rekeyed and time.time() - t0[0] >= a.rekey_at:
            rekeyed = True
            rep["rekey_at_packet"] = rep["sent"]
            rep["rekey_at_sample"] = len(pcm)
            off = sdp(new_keys(2), 2)
            rep["offers"].append(off)
            cs = send_req("INVITE", off)
            c2, ans2 = wait_final(cs, "INVITE")
            rep["answers"].append({"code": c2, "sdp": ans2})
            if c2 == 200:
                send_req("ACK")
                apply_answer(ans2, 2)
        try:
            d, src = sip.recvfrom(65535)
            rep["errors"].append("unexpected SIP: " + d.decode(
                errors="replace").split("\r\n")[0])
        except socket.timeout:
            pass
        pump()
    if code == 200:
        cs = send_req("BYE")
        c3, _ = wait_final(cs, "BYE")
        rep["bye"] = c3
    if a.record:
        w = wave.open(a.record, "wb")
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<%dh" % len(pcm), *pcm))
        w.close()
    out = json.dumps(rep, indent=1)
    if a.report:
        open(a.report, "w").write(out)
    else:
        print(out)
    return 0 if code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
