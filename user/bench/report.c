// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rx's progress line, summary and JSON. See report.h. */
#include <stdio.h>

#include "path.h"
#include "report.h"
#include "workload.h"

static void fmt_bytes(char *buf, size_t len, double v)
{
	if (v >= 1 << 30)
		snprintf(buf, len, "%.2f GiB", v / (1 << 30));
	else if (v >= 1 << 20)
		snprintf(buf, len, "%.1f MiB", v / (1 << 20));
	else
		snprintf(buf, len, "%.0f KiB", v / 1024);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void report_progress(const struct rx_run *r, const struct totals *now,
		     const struct totals *prev, double t, double dt, FILE *tl)
{
	const struct rx_cfg *c = r->cfg;
	double pps = (double)(now->packets - prev->packets) / dt;
	double mbps = (double)(now->bytes - prev->bytes) * 8 / dt / 1e6;
	char umem[32], kern[32] = "", target[48], extra[64] = "";

	fmt_bytes(umem, sizeof(umem), (double)now->umem_in_use);
	snprintf(target, sizeof(target), "%llu, in the kernel ",
		 (unsigned long long)now->s.fill_target);
	if (!c->fixed)
		fmt_bytes(kern, sizeof(kern),
			  (double)now->s.kernel_chunks * (double)c->frame_size);
	if (c->wl == WL_TOUCH)
		snprintf(extra, sizeof(extra), " | corrupt %llu",
			 (unsigned long long)now->corrupt);
	if (r->cap) {
		struct capture_stats cs;

		capture_get_stats(r->cap, &cs);
		snprintf(extra, sizeof(extra), " | written %llu dropped %llu",
			 (unsigned long long)cs.frames, (unsigned long long)cs.dropped);
	}
	if (!c->quiet)
		fprintf(stderr,
			"rx %6.1fs %9.0f pps %8.1f Mbit/s | drops: dropped %llu ring_full %llu fill_empty %llu invalid %llu redirect_failed %llu | fill %llu/%llu | %llu blocks | umem %s%s%s%s%s\n",
			t, pps, mbps, (unsigned long long)now->s.rx_dropped,
			(unsigned long long)now->s.rx_ring_full,
			(unsigned long long)now->s.rx_fill_ring_empty,
			(unsigned long long)now->s.rx_invalid_descs,
			(unsigned long long)now->x.redirect_failed,
			(unsigned long long)now->fill_level,
			(unsigned long long)now->fill_capacity,
			(unsigned long long)now->blocks_in_use, umem,
			c->fixed ? "" : " | target ", c->fixed ? "" : target,
			c->fixed ? "" : kern, extra);
	if (tl) {
		fprintf(tl, "%.3f %.0f %.3f %llu %llu %llu %llu %llu\n", t, pps, mbps,
			(unsigned long long)now->packets,
			(unsigned long long)kernel_drops(&now->s),
			(unsigned long long)now->fill_level,
			(unsigned long long)now->blocks_in_use,
			(unsigned long long)now->umem_in_use);
		fflush(tl);
	}
}

void report_summary(const struct rx_run *r, const struct rx_result *res, FILE *out)
{
	const struct rx_cfg *c = r->cfg;
	const struct totals *tt = &res->fin;
	const struct hist *lat = res->lat;
	double secs = res->secs, wall = res->wall;
	uint64_t peak = res->peak, drained = res->drained, stalls = res->stalls;
	const struct xfrag_rxq_stats *s = &tt->s;
	uint64_t drops = kernel_drops(s), acc = tt->packets + drops;
	char wl[32], b1[32], b2[32];
	unsigned int i;

	fmt_bytes(b1, sizeof(b1), (double)tt->umem_size);
	fmt_bytes(b2, sizeof(b2), (double)peak);
	fprintf(out, "xfrag-bench rx: %s queue%s", c->ifname, c->nq == 1 ? "" : "s");
	for (i = 0; i < c->nq; i++)
		fprintf(out, "%s%u", i ? "," : " ", c->queues[i]);
	fprintf(out, ", %s, %s mode, %s XDP, frame %u, headroom %u, workload %s\n",
	       c->fixed ? "fixed frames (aligned, recycled to fill)" : "xfrag frags",
	       tt->zerocopy ? "zero-copy" : "copy",
	       prog_mode_name(r->xdp),
	       c->frame_size, c->headroom, workload_name(c, wl, sizeof(wl)));
	fprintf(out, "  received   %llu frames, %llu bytes in %.3f s: %.0f pps, %.1f Mbit/s\n",
	       (unsigned long long)tt->packets, (unsigned long long)tt->bytes, secs,
	       secs > 0 ? (double)tt->packets / secs : 0,
	       secs > 0 ? (double)tt->bytes * 8 / secs / 1e6 : 0);
	fprintf(out, "  xdp        seen %llu, matched %llu, redirected %llu, redirect_failed %llu, passed %llu, malformed %llu\n",
	       (unsigned long long)tt->x.seen, (unsigned long long)tt->x.matched,
	       (unsigned long long)tt->x.redirected,
	       (unsigned long long)tt->x.redirect_failed,
	       (unsigned long long)tt->x.passed, (unsigned long long)tt->x.malformed);
	fprintf(out, "  drops      rx_dropped %llu (fill ring empty %llu), rx_ring_full %llu, rx_invalid_descs %llu\n",
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_fill_ring_empty,
	       (unsigned long long)s->rx_ring_full, (unsigned long long)s->rx_invalid_descs);
	fprintf(out, "  accounting redirected %llu = delivered %llu + dropped %llu%s%s\n",
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->packets,
	       (unsigned long long)drops,
	       acc == tt->x.redirected ? ": balanced" : "",
	       acc == tt->x.redirected ? "" : ": MISMATCH");
	if (drained)
		fprintf(out, "             (%llu of the delivered were drained from the RX rings at stop)\n",
		       (unsigned long long)drained);
	fprintf(out, "  umem       %s, peak in use %s", b1, b2);
	if (!c->fixed)
		fprintf(out, " (%llu-byte blocks, %u chunks each)", (unsigned long long)c->block_size,
		       s->chunks_per_block);
	fprintf(out, "\n");
	if (!c->fixed) {
		fmt_bytes(b2, sizeof(b2), (double)s->kernel_chunks * c->frame_size);
		fprintf(out, "  kernel     %llu chunks (%s) in the kernel's hands at stop, fill target %llu of %u\n",
		       (unsigned long long)s->kernel_chunks, b2,
		       (unsigned long long)s->fill_target, c->ring_size * c->nq);
	}
	if (c->latency)
		fprintf(out, "  latency    XDP to user space: p50 %llu ns, p99 %llu ns, p99.9 %llu ns, max %llu ns (%llu samples, one frame in %u stamped)\n",
		       (unsigned long long)hist_quantile(lat, 0.5),
		       (unsigned long long)hist_quantile(lat, 0.99),
		       (unsigned long long)hist_quantile(lat, 0.999),
		       (unsigned long long)lat->max, (unsigned long long)lat->n,
		       rx_stamp_every(c));
	if (c->wl == WL_TOUCH)
		fprintf(out, "  verified   %llu test frames intact, %llu corrupt, %llu not test frames\n",
		       (unsigned long long)tt->verified, (unsigned long long)tt->corrupt,
		       (unsigned long long)tt->foreign);
	if (c->wl == WL_WORKERS)
		fprintf(out, "  workers    %u, producer waited on a full ring %llu times\n",
		       c->wl_arg, (unsigned long long)stalls);
	if (res->capture)
		fprintf(out, "  capture    %llu frames, %llu bytes written to %s (snaplen %u); %llu dropped: the writer's queue (%u frames per rx queue) was full\n",
			(unsigned long long)res->cap.frames, (unsigned long long)res->cap.bytes,
			capture_name(r->cap), c->snaplen ? c->snaplen : CAPTURE_SNAPLEN_MAX,
			(unsigned long long)res->cap.dropped, c->write_queue);
	if (res->capture && res->cap.failed)
		fprintf(out, "             %llu frames not written: a write to %s had failed\n",
			(unsigned long long)res->cap.failed, capture_name(r->cap));
	if (!c->fixed)
		fprintf(out, "  fill ring  %llu chunks posted, %llu short refills, %llu wakeups, %llu copybreak copies\n",
		       (unsigned long long)s->fill_posted, (unsigned long long)s->fill_short,
		       (unsigned long long)s->wakeups, (unsigned long long)s->copies);
	if (wall > 0)
		fprintf(out, "  wall       %.3f s\n", wall);
}

void report_json(const struct rx_run *r, const struct rx_result *res, FILE *out)
{
	const struct rx_cfg *c = r->cfg;
	const struct totals *tt = &res->fin;
	const struct hist *lat = res->lat;
	double secs = res->secs, wall = res->wall;
	uint64_t peak = res->peak, drained = res->drained, stalls = res->stalls;
	const struct xfrag_rxq_stats *s = &tt->s;
	uint64_t drops = kernel_drops(s);
	char wl[32];
	unsigned int i;

	fprintf(out, "{\"cmd\":\"rx\",\"iface\":\"%s\",\"queues\":[", c->ifname);
	for (i = 0; i < c->nq; i++)
		fprintf(out, "%s%u", i ? "," : "", c->queues[i]);
	fprintf(out, "],\"impl\":\"%s\",\"workload\":\"%s\",\"filter\":\"%s\",\"mode\":\"%s\",\"xdp_mode\":\"%s\",",
	       r->path->name, workload_name(c, wl, sizeof(wl)),
	       c->prog.filter_str, tt->zerocopy ? "zerocopy" : "copy",
	       prog_mode_name(r->xdp));
	fprintf(out, "\"frame_size\":%u,\"geometry\":{\"frame_size\":%u,\"headroom\":%u,\"block_size\":%u,"
	       "\"chunks_per_block\":%u,\"fill_size\":%u,\"rx_size\":%u,\"batch\":%u,\"umem_size\":%llu,"
	       "\"aligned\":%s,\"copybreak\":%u},",
	       c->frame_size, c->frame_size, c->headroom, c->fixed ? c->frame_size : c->block_size,
	       c->fixed ? 1 : s->chunks_per_block, c->ring_size, c->ring_size, c->batch,
	       (unsigned long long)tt->umem_size, c->fixed ? "true" : "false", c->copybreak);
	fprintf(out, "\"rx_packets\":%llu,\"rx_bytes\":%llu,\"seconds\":%.6f,\"wall_seconds\":%.6f,"
	       "\"rx_pps\":%.1f,\"rx_mbps\":%.3f,",
	       (unsigned long long)tt->packets, (unsigned long long)tt->bytes, secs, wall,
	       secs > 0 ? (double)tt->packets / secs : 0,
	       secs > 0 ? (double)tt->bytes * 8 / secs / 1e6 : 0);
	fprintf(out, "\"drops\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"rx_fill_ring_empty\":%llu,"
	       "\"rx_invalid_descs\":%llu,\"xdp_redirect_failed\":%llu,\"xdp_malformed\":%llu,"
	       "\"xdp_meta_failed\":%llu},",
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_ring_full,
	       (unsigned long long)s->rx_fill_ring_empty, (unsigned long long)s->rx_invalid_descs,
	       (unsigned long long)tt->x.redirect_failed, (unsigned long long)tt->x.malformed,
	       (unsigned long long)tt->x.meta_failed);
	fprintf(out, "\"xdp\":{\"seen\":%llu,\"matched\":%llu,\"redirected\":%llu,\"passed\":%llu,"
	       "\"dropped\":%llu,\"redirect_failed\":%llu,\"malformed\":%llu,\"meta_failed\":%llu,"
	       "\"seen_bytes\":%llu,\"redirected_bytes\":%llu},",
	       (unsigned long long)tt->x.seen, (unsigned long long)tt->x.matched,
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->x.passed,
	       (unsigned long long)tt->x.dropped, (unsigned long long)tt->x.redirect_failed,
	       (unsigned long long)tt->x.malformed, (unsigned long long)tt->x.meta_failed,
	       (unsigned long long)tt->x.seen_bytes, (unsigned long long)tt->x.redirected_bytes);
	fprintf(out, "\"accounting\":{\"redirected\":%llu,\"delivered\":%llu,\"dropped\":%llu,"
	       "\"drained_at_stop\":%llu,\"balanced\":%s},",
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->packets,
	       (unsigned long long)drops, (unsigned long long)drained,
	       tt->packets + drops == tt->x.redirected ? "true" : "false");
	fprintf(out, "\"umem_bytes\":%llu,\"umem_peak_bytes\":%llu,\"block_size\":%u,",
	       (unsigned long long)tt->umem_size, (unsigned long long)peak,
	       c->fixed ? c->frame_size : c->block_size);
	/* The working set: what the queues keep in the kernel's hands. */
	fprintf(out, "\"fill_target\":%llu,\"kernel_chunks\":%llu,\"kernel_bytes\":%llu,\"fill_invalid\":%llu,",
	       (unsigned long long)s->fill_target, (unsigned long long)s->kernel_chunks,
	       (unsigned long long)s->kernel_chunks * c->frame_size,
	       (unsigned long long)s->fill_invalid);
	if (c->wl == WL_HOLD) {
		/*
		 * What each held packet costs: the peak UMEM in use less what
		 * the fill rings pin anyway, over the packets held at the peak.
		 */
		uint64_t held = (uint64_t)c->wl_arg * c->nq, ring = 0;

		if (held > tt->packets)
			held = tt->packets;
		ring = (uint64_t)c->nq * c->ring_size * c->frame_size;
		fprintf(out, "\"hold\":{\"packets\":%llu,\"umem_bytes_per_held\":%.1f},",
		       (unsigned long long)held,
		       held && peak > ring ? (double)(peak - ring) / (double)held : 0.0);
	}
	if (c->latency)
		fprintf(out, "\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,\"samples\":%llu,\"every\":%u},",
		       (unsigned long long)hist_quantile(lat, 0.5),
		       (unsigned long long)hist_quantile(lat, 0.99),
		       (unsigned long long)hist_quantile(lat, 0.999),
		       (unsigned long long)lat->max, (unsigned long long)lat->n,
		       rx_stamp_every(c));
	else
		fprintf(out, "\"latency_ns\":null,");
	if (res->capture) {
		fprintf(out, "\"capture\":{\"file\":");
		json_string(out, capture_name(r->cap));
		fprintf(out, ",\"frames\":%llu,\"bytes\":%llu,\"dropped\":%llu,\"failed\":%llu,"
			"\"unstamped\":%llu,\"snaplen\":%u,\"queue\":%u,\"writer_cpu\":%d,\"pps\":%.1f},",
			(unsigned long long)res->cap.frames, (unsigned long long)res->cap.bytes,
			(unsigned long long)res->cap.dropped, (unsigned long long)res->cap.failed,
			(unsigned long long)res->cap.unstamped,
			c->snaplen ? c->snaplen : CAPTURE_SNAPLEN_MAX, c->write_queue,
			res->cap.writer_cpu, secs > 0 ? (double)res->cap.frames / secs : 0);
	} else {
		fprintf(out, "\"capture\":null,");
	}
	fprintf(out, "\"corrupt\":%llu,\"verified\":%llu,\"foreign\":%llu,\"fill_posted\":%llu,\"fill_short\":%llu,"
	       "\"wakeups\":%llu,\"copies\":%llu,\"worker_ring_stalls\":%llu}\n",
	       (unsigned long long)tt->corrupt, (unsigned long long)tt->verified,
	       (unsigned long long)tt->foreign, (unsigned long long)s->fill_posted, (unsigned long long)s->fill_short,
	       (unsigned long long)s->wakeups, (unsigned long long)s->copies,
	       (unsigned long long)stalls);
}
