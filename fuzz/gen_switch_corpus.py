#!/usr/bin/env python3
"""Writes the seed inputs of fuzz/switch_fuzzer.cpp to fuzz/corpus/switch/ (run from anywhere).

The input format is the fuzzer's: 5 bytes of configuration (rng seed, then c0..c3, see
Fuzz::make_switch), then steps (see LLVMFuzzerTestOneInput). With probes off (c0 bit 6) the
requests trunkline sends are numbered in order from 0, which the `answer` picks below use.
"""
import os

# kCommonCodes indices in switch_fuzzer.cpp
CODE = {100: 0, 180: 1, 183: 2, 200: 3, 486: 4, 503: 5, 404: 6, 487: 7, 408: 8, 480: 9,
        600: 10, 603: 11, 481: 12, 491: 13, 302: 14, 202: 15}
SDP, SE, SUPPORTED = 0x01, 0x02, 0x04          # new INVITE flags
A_SE, A_CONTACT, A_BODY = 0x01, 0x02, 0x04     # answer flags
ACK, BYE, CANCEL, REINVITE, UPDATE, UPDATE_SDP, INFO, RETRANSMIT = range(8)  # customer
V_BYE, V_UPDATE, V_UPDATE_SDP, V_INVITE, V_INFO = range(5)                    # vendor


def config(seed=7, c0=0, c1=0, c2=0, c3=0):
    return bytes([seed, c0, c1, c2, c3])


def invite(callee=0, flags=SDP, se=0):
    return bytes([0, callee, flags, se])


def answer(pick, code, flags=0, se=0):
    return bytes([1, pick, CODE[code], flags, se])


def ok(pick, flags=A_CONTACT | A_BODY, se=0):
    return answer(pick, 200, flags, se)


def customer(pick, what, flags=0):
    return bytes([2, pick, what, flags])


def vendor(pick, what, flags=0):
    return bytes([3, pick, what, flags])


def advance(seconds):
    if seconds <= 12.7:
        return bytes([5, round(seconds * 10)])
    return bytes([5, min(255, 127 + round(seconds / 1.6))])


def hangup(pick=0):
    return bytes([6, pick])


def misc(what, pick=0):
    return bytes([7, what, pick])


SEEDS = {
    # connected through gw1 (180, 200 with SDP, ACK), 10 s of talk, BYE from the customer
    'answered-bye': config() + invite() + answer(0, 180) + ok(0) + customer(0, ACK) +
                    advance(10) + customer(0, BYE) + advance(5),
    # gw1 503 -> gw2 answers, vendor BYE; second call: gw1 never answers (INVITE timeout)
    # then gw2 486 (a stop code)
    'failover': config() + invite() + answer(0, 503) + ok(1) + customer(0, ACK) + advance(3) +
                vendor(1, V_BYE) + invite(0) + advance(5) + answer(4, 486) + advance(40),
    # CANCEL after 180 (vendor 487), and CANCEL before any provisional: the vendor's 200
    # crosses the CANCEL trunkline sends after its 180 (ACK + BYE)
    'cancel': config() + invite() + answer(0, 180) + customer(0, CANCEL) + answer(0, 487) +
              answer(1, 200) + invite(1) + customer(1, CANCEL) + answer(2, 180) + ok(2) +
              advance(40),
    # prepaid: balance 0.05 (30 s at 0.10/min), quotas of 10 s: cut at 30 s; then 402
    'prepaid-cut': config(c1=0x11) + invite() + ok(0) + customer(0, ACK) + advance(45) +
                   invite(0) + advance(1),
    # prepaid: two concurrent calls share 0.20 + 0.02 credit in quotas of 10 s
    'prepaid-two-calls': config(c1=0x12 | 0x04) + invite(0) + invite(0) + ok(0) + ok(1) +
                         customer(0, ACK) + customer(1, ACK) + advance(100) + advance(100),
    # session timers both ways: customer Session-Expires 90 + Supported, the vendor's 2xx
    # says 120;refresher=uas; refreshes from each side, then the vendor stops refreshing
    'session-timers': config() + invite(0, SDP | SE | SUPPORTED, 0) +
                      ok(0, A_SE | A_CONTACT | A_BODY, 2) + customer(0, ACK) + advance(40) +
                      customer(0, UPDATE) + vendor(0, V_UPDATE) + advance(60) +
                      customer(0, UPDATE) + advance(120),
    # regression: a session timer expiring (the customer refreshes, never does) hangs up
    # and frees the call inside Calls::on_call_timer, which then read call.id (ASan
    # heap-use-after-free)
    'regress-session-expiry-uaf': config() + invite(0, SDP | SE | SUPPORTED, 0) + ok(0) +
                                  customer(0, ACK) + advance(200),
    # relays: the customer's re-INVITE and UPDATE with SDP answered by the vendor, INFO,
    # then the operator hangs up
    'relay-hangup': config() + invite() + ok(0) + customer(0, ACK) + customer(0, REINVITE) +
                    ok(1) + customer(0, ACK) + customer(0, UPDATE_SDP) + ok(2) +
                    customer(0, INFO) + answer(3, 200, 0) + vendor(0, V_INVITE) + ok(4) +
                    advance(2) + hangup(0) + advance(40),
    # a late offer (no SDP in the INVITE) whose 2xx is never ACKed: BYE after 64*T1; an
    # early-dialog 183 with SDP then progress timeout; a retransmitted INVITE
    'late-offer-noack': config() + invite(0, 0) + customer(0, RETRANSMIT) + ok(0) +
                        advance(40) + invite(1) + answer(3, 183, A_BODY) + advance(25) +
                        advance(10),
    # an unknown source (403 + illegal record), mutated bytes, transport error, probes on,
    # cost policy, a CDR commit and a book reload
    'illegal-raw-misc': config(c0=0x41) + invite(0, 0xC1) + invite(1) +
                        bytes([4, 0, 1, 3, 2, 0, 40, 0, ord('X')]) + misc(0, 0) + advance(2) +
                        misc(1) + misc(2) + advance(35) + answer(5, 200) + misc(3),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'switch')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
