#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Per-round ratios of a scripts/bench.sh run (RESULTS/runs.jsonl): for each
# frame size and receiver, its rate over the same round's XDP_DROP ceiling
# and over the better of the two DPDK rows (dpdk, dpdk0) of that round, the
# median of those ratios and how many rounds reached 1.0; the frames lost
# (generator's sent minus delivered, over sent: counted drops and frames the
# sending veth dropped before the program alike), and the UMEM in the
# kernel's hands at the end (kernel_bytes).
#
# usage: scripts/bench-ratios.py RESULTS/runs.jsonl
import json
import statistics as st
import sys

runs=[json.loads(l) for l in open(sys.argv[1])]
by={}
for r in runs: by.setdefault((r['size'],r['round']),{})[r['kind']]=r
def med(v): return st.median(v) if v else float('nan')
for size in sorted({r['size'] for r in runs}):
    rounds=sorted(k[1] for k in by if k[0]==size)
    print(f"== {size} B, {len(rounds)} rounds")
    for kind in ['xfrag','xfrag-bp','dpdk','dpdk0','fixed','xdpdrop']:
        rc=[];rd=[];loss=[];kb=[]
        for rd_ in rounds:
            R=by[(size,rd_)]
            if kind not in R: continue
            x=R[kind]; c=R.get('ceiling')
            d=[R[k]['pps'] for k in ('dpdk','dpdk0') if k in R]
            if c: rc.append(x['pps']/c['pps'])
            if d: rd.append(x['pps']/max(d))
            rx=x.get('rx') or {}
            acc=rx.get('accounting') or {}
            sent=(x.get('gen') or {}).get('sent')
            dl=acc.get('delivered', rx.get('frames'))
            if sent and dl is not None:
                loss.append((sent-dl)/sent*100)
            if rx.get('kernel_bytes') is not None: kb.append(rx['kernel_bytes'])
        above_c=sum(1 for v in rc if v>=1.0); above_d=sum(1 for v in rd if v>=1.0)
        print(f"{kind:9s} vs ceiling med {med(rc):.3f} [{', '.join(f'{v:.2f}' for v in rc)}] >=1: {above_c}; vs best DPDK med {med(rd):.3f} [{', '.join(f'{v:.2f}' for v in rd)}] >=1: {above_d}; loss% med {med(loss):.4f} max {max(loss) if loss else float('nan'):.4f}; kernel MiB med {med(kb)/2**20 if kb else float('nan'):.2f}")
