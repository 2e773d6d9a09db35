// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Device settings for busy polling: the interface's napi_defer_hard_irqs
 * and gro_flush_timeout, set for a run and restored after it.
 *
 * With SO_PREFER_BUSY_POLL a poller that keeps calling recvfrom() owns the
 * queue's NAPI and runs it on its own CPU; these two settings keep the
 * kernel from scheduling that NAPI elsewhere in between (deferring the
 * re-enabled interrupts for a short timeout). They are device-wide and
 * outlive the process, so the old values are written to a state file
 * first: restore puts them back and removes it, and when a process dies
 * without restoring (SIGKILL), the next call here, or
 * xfrag_devtune__restore_saved(), finds the file of a dead process and
 * restores from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "xfrag/devtune.h"
#include "xsk_ops.h"

#define STATE_DIR "/run/xfrag"

struct xfrag_devtune {
	char ifname[IF_NAMESIZE];
	int ifindex;
	char path[256];
	uint32_t old_defer, old_timeout;
};

static int read_attr(const char *ifname, const char *attr, uint32_t *v)
{
	char path[160], buf[32];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*v = (uint32_t)strtoul(buf, NULL, 10);
	return 0;
}

static int write_attr(const char *ifname, const char *attr, uint32_t v)
{
	char path[160];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%u\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		pr_err("%s: cannot set %s to %u: %s", ifname, attr, v, strerror(-err));
	return err;
}

static void state_path(char *buf, size_t len, const char *dir, const char *ifname,
		       int ifindex)
{
	snprintf(buf, len, "%s/devtune-%s-%d", dir ? dir : STATE_DIR, ifname, ifindex);
}

struct saved {
	long pid;
	uint32_t defer, timeout;
};

static int read_state(const char *path, struct saved *s)
{
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "pid=%ld napi_defer_hard_irqs=%u gro_flush_timeout=%u",
		   &s->pid, &s->defer, &s->timeout);
	fclose(f);
	return n == 3 ? 0 : -EINVAL;
}

static bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* A state file left by a dead process: put its values back, remove it. */
static int restore_from(const char *path, const char *ifname, bool *busy)
{
	struct saved s;
	int err;

	*busy = false;
	err = read_state(path, &s);
	if (err == -ENOENT)
		return 0;
	if (err) {
		pr_err("%s: unreadable state file %s; not touching the device (remove it by hand)",
		       ifname, path);
		return err;
	}
	if (pid_alive(s.pid) && s.pid != (long)getpid()) {
		*busy = true;
		return 0;
	}
	if ((err = write_attr(ifname, "napi_defer_hard_irqs", s.defer)) ||
	    (err = write_attr(ifname, "gro_flush_timeout", s.timeout)))
		return err;
	unlink(path);
	pr_info("%s: restored napi_defer_hard_irqs %u and gro_flush_timeout %u left by process %ld",
		ifname, s.defer, s.timeout, s.pid);
	return 1;
}

int xfrag_devtune__restore_saved(const char *ifname, const char *state_dir)
{
	char path[256];
	int ifindex;
	bool busy;
	int err;

	if (!ifname)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	state_path(path, sizeof(path), state_dir, ifname, ifindex);
	err = restore_from(path, ifname, &busy);
	if (busy) {
		pr_err("%s: its busy-poll settings belong to a process that is still running; not restoring",
		       ifname);
		return -EBUSY;
	}
	return err;
}

struct xfrag_devtune *xfrag_devtune__busy_poll(const struct xfrag_devtune_opts *opts)
{
	const char *dir = OPTS_GET(opts, state_dir, NULL);
	struct xfrag_devtune *t;
	char tmp[272];
	bool busy;
	FILE *f;
	int err;

	if (!opts || !OPTS_VALID(opts, xfrag_devtune_opts)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	if (OPTS_GET(opts, ifname, NULL)) {
		snprintf(t->ifname, sizeof(t->ifname), "%s", OPTS_GET(opts, ifname, NULL));
		t->ifindex = (int)if_nametoindex(t->ifname);
	} else {
		t->ifindex = OPTS_GET(opts, ifindex, 0);
		if (t->ifindex <= 0 || !if_indextoname((unsigned int)t->ifindex, t->ifname))
			t->ifindex = 0;
	}
	if (!t->ifindex) {
		pr_err("busy-poll tuning: interface not found");
		err = -ENODEV;
		goto err_free;
	}
	state_path(t->path, sizeof(t->path), dir, t->ifname, t->ifindex);
	err = restore_from(t->path, t->ifname, &busy);
	if (err < 0)
		goto err_free;
	if (busy) {
		pr_err("%s: a running process has already tuned it for busy polling (see %s)",
		       t->ifname, t->path);
		err = -EBUSY;
		goto err_free;
	}
	if ((err = read_attr(t->ifname, "napi_defer_hard_irqs", &t->old_defer)) ||
	    (err = read_attr(t->ifname, "gro_flush_timeout", &t->old_timeout))) {
		pr_err("%s: cannot read its NAPI settings: %s", t->ifname, strerror(-err));
		goto err_free;
	}
	/* Saved before anything changes, renamed into place atomically. */
	mkdir(dir ? dir : STATE_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		pr_err("%s: cannot save its settings in %s: %s", t->ifname, tmp, strerror(-err));
		goto err_free;
	}
	fprintf(f, "pid=%ld napi_defer_hard_irqs=%u gro_flush_timeout=%u\n",
		(long)getpid(), t->old_defer, t->old_timeout);
	if (fclose(f) || rename(tmp, t->path)) {
		err = -errno;
		unlink(tmp);
		goto err_free;
	}
	if ((err = write_attr(t->ifname, "napi_defer_hard_irqs",
			      OPTS_GET(opts, defer_hard_irqs, 0) ?: 2)) ||
	    (err = write_attr(t->ifname, "gro_flush_timeout",
			      OPTS_GET(opts, gro_flush_timeout_ns, 0) ?: 50000))) {
		xfrag_devtune__restore(t);
		errno = -err;
		return NULL;
	}
	pr_info("%s: napi_defer_hard_irqs %u -> %u, gro_flush_timeout %u -> %u ns (restored on exit; saved in %s)",
		t->ifname, t->old_defer, OPTS_GET(opts, defer_hard_irqs, 0) ?: 2,
		t->old_timeout, OPTS_GET(opts, gro_flush_timeout_ns, 0) ?: 50000,
		t->path);
	return t;

err_free:
	free(t);
	errno = -err;
	return NULL;
}

int xfrag_devtune__restore(struct xfrag_devtune *t)
{
	int err, err2;

	if (!t)
		return 0;
	err = write_attr(t->ifname, "napi_defer_hard_irqs", t->old_defer);
	err2 = write_attr(t->ifname, "gro_flush_timeout", t->old_timeout);
	if (!err && !err2)
		unlink(t->path); /* kept on failure: a later start retries */
	free(t);
	return err ? err : err2;
}
