# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag lab: a network namespace and a veth pair for tests, the demo and
# benchmarks. Source it from bash (as root), then:
#
#	. scripts/lab.sh
#	lab_up [-q QUEUES] [-m MTU]     # creates the lab; sets LAB_* (below)
#	ip netns exec "$LAB_NS" xfrag-bench gen -i "$LAB_NS_IF" \
#		--dst-ip "$LAB_HOST_IP" --dst-mac "$LAB_HOST_MAC" --count 1000
#	lab_counter "$LAB_HOST_IF" rx_packets
#	lab_down                        # optional: it also runs on exit
#
# lab_up creates namespace xfrag-lab-PID-N, moves one end of a veth pair into
# it and leaves the other end in the caller's namespace:
#
#	caller's namespace                 namespace $LAB_NS
#	$LAB_HOST_IF ($LAB_HOST_IP/24) <-> $LAB_NS_IF ($LAB_NS_IP/24)
#
# and exports LAB_NS, LAB_HOST_IF, LAB_NS_IF, LAB_HOST_IP, LAB_NS_IP,
# LAB_HOST_MAC, LAB_NS_MAC, LAB_PREFIX (24) and LAB_QUEUES. Addresses come
# from 198.18.0.0/15 (RFC 2544 benchmarking) only: a /24 no interface of the
# caller's namespace uses yet, picked under a lock so parallel runs differ.
# Names end in the creating shell's PID and a counter, and stay within the
# 15 bytes an interface name may have (xfhPIDxN / xfnPIDxN).
#
# The links carry only what is sent on purpose: IPv6 is disabled on both
# ends before they come up (no router/neighbour solicitations, no MLD), and
# each end has a permanent neighbour entry for the other, so the stacks never
# ARP. A frame count on one end therefore equals what the other end sent.
#
# Cleanup: lab_up registers lab_down on EXIT, INT, TERM and HUP, chained in
# front of whatever traps the caller had set (set yours first, or call
# lab_down from them). lab_down is idempotent: it stops processes still
# running in the lab's namespace, deletes the veth pair (which also removes
# any XDP program attached to it) and the namespace. lab_sweep deletes labs
# left behind by processes that died without cleaning up (e.g. SIGKILL);
# lab_up runs it first.
#
# lab_up must run in the current shell, not in $(...) or a pipeline: it
# sets variables and traps. Call it several times for several labs; LAB_*
# then describe the newest, and lab_down removes them all.

_LAB_NS_PREFIX=xfrag-lab-
_LAB_LOCK=/run/xfrag-lab.lock
_LAB_SEQ=${_LAB_SEQ:-0}
_LAB_LIST=${_LAB_LIST:-}        # "ns:host_if ..." created by this shell
_LAB_TRAPS_FOR=${_LAB_TRAPS_FOR:-}

_lab_err() {
	echo "lab: $*" >&2
}

# _lab_pid_alive PID: 0 if the process exists
_lab_pid_alive() {
	[ -d "/proc/$1" ]
}

# _lab_kill_ns NS: stop what still runs inside NS (it keeps the ns alive)
_lab_kill_ns() {
	local pids i
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || :
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$1" 2>/dev/null) || return 0
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || :
	return 0
}

# _lab_delete NS HOST_IF
_lab_delete() {
	# Callers may run with set -e: nothing here may fail.
	_lab_kill_ns "$1" || :
	ip link del dev "$2" 2>/dev/null || :
	ip netns del "$1" 2>/dev/null || :
	return 0
}

# lab_down: delete every lab this shell created. Safe to call repeatedly.
lab_down() {
	local entry
	for entry in $_LAB_LIST; do
		_lab_delete "${entry%%:*}" "${entry#*:}"
	done
	_LAB_LIST=
	unset LAB_NS LAB_HOST_IF LAB_NS_IF LAB_HOST_IP LAB_NS_IP LAB_HOST_MAC \
		LAB_NS_MAC LAB_PREFIX LAB_QUEUES
	return 0
}

# lab_sweep: delete labs whose creating process is gone. Prints what it removes.
lab_sweep() {
	local ns pid rest link
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$_LAB_NS_PREFIX"*) ;; *) continue ;; esac
		rest=${ns#"$_LAB_NS_PREFIX"}
		pid=${rest%%-*}
		case $pid in ''|*[!0-9]*) continue ;; esac
		_lab_pid_alive "$pid" && continue
		echo "lab: removing stale lab $ns (pid $pid is gone)" >&2
		_lab_delete "$ns" "xfh${pid}x${rest#*-}"
	done
	# Host ends whose namespace went away without taking them along.
	for link in $(ip -o link show 2>/dev/null |
		      sed -n 's/^[0-9]*: \(xfh[0-9]*x[0-9]*\)[@:].*/\1/p'); do
		rest=${link#xfh}
		pid=${rest%%x*}
		_lab_pid_alive "$pid" && continue
		echo "lab: removing stale link $link (pid $pid is gone)" >&2
		ip link del dev "$link" 2>/dev/null || :
	done
	return 0
}

# Run lab_down, then the trap the caller had for this signal (or die of it).
_lab_on_signal() {
	local sig=$1 old=$2
	lab_down
	if [ -n "$old" ]; then
		eval "$old"
	else
		trap - "$sig"
		kill -s "$sig" "$BASHPID"
	fi
}

# _lab_old_trap SIG: the caller's current action for SIG ('' if none)
_lab_old_trap() {
	local spec
	spec=$(trap -p "$1")
	[ -n "$spec" ] || return 0
	eval "set -- $spec"   # trap -- 'ACTION' SIG
	printf '%s' "$3"
}

_lab_install_traps() {
	local old sig
	# Once per shell process (a subshell needs its own).
	[ "$_LAB_TRAPS_FOR" = "$BASHPID" ] && return 0
	_LAB_TRAPS_FOR=$BASHPID
	old=$(_lab_old_trap EXIT)
	# shellcheck disable=SC2064
	trap "lab_down${old:+; $old}" EXIT
	for sig in INT TERM HUP; do
		old=$(_lab_old_trap "$sig")
		# shellcheck disable=SC2064
		trap "_lab_on_signal $sig $(printf '%q' "$old")" "$sig"
	done
}

# _lab_pick_subnet: print a third/second octet pair "B C" for 198.B.C.0/24
# that no address of this namespace uses. Call with the lock held.
_lab_pick_subnet() {
	local used i idx b c
	used=$(ip -4 -o addr show 2>/dev/null | awk '{print $4}')
	for ((i = 0; i < 512; i++)); do
		idx=$(((BASHPID * 7 + _LAB_SEQ * 131 + i) % 512))
		b=$((18 + idx / 256))
		c=$((idx % 256))
		case $'\n'"$used" in *$'\n'"198.$b.$c."*) continue ;; esac
		echo "$b $c"
		return 0
	done
	return 1
}

# _lab_sysctl NS KEY VALUE (NS '' for the caller's namespace)
_lab_sysctl() {
	local f="/proc/sys/${2//.//}"
	if [ -n "$1" ]; then
		ip netns exec "$1" sh -c "[ ! -e '$f' ] || echo '$3' > '$f'"
	else
		[ ! -e "$f" ] || echo "$3" >"$f"
	fi
}

# lab_up [-q QUEUES] [-m MTU]
lab_up() {
	local queues='' mtu='' opt OPTIND=1 n ns hif nif sub b c qargs=() lockfd
	local hmac nmac hip nip
	while getopts "q:m:" opt; do
		case $opt in
		q) queues=$OPTARG ;;
		m) mtu=$OPTARG ;;
		*) _lab_err "usage: lab_up [-q QUEUES] [-m MTU]"; return 2 ;;
		esac
	done
	case $queues in ''|[1-9]|[1-9][0-9]) ;; *)
		_lab_err "-q wants a queue count in 1..99, not '$queues'"; return 2 ;;
	esac
	case $mtu in ''|[1-9][0-9]|[1-9][0-9][0-9]|[1-9][0-9][0-9][0-9]|[1-9][0-9][0-9][0-9][0-9]) ;; *)
		_lab_err "-m wants an MTU in bytes, not '$mtu'"; return 2 ;;
	esac
	if [ "$(id -u)" != 0 ]; then
		_lab_err "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create namespaces and veth pairs"
		return 1
	fi
	command -v ip >/dev/null || { _lab_err "the 'ip' command (iproute2) is missing"; return 1; }

	_lab_install_traps
	lab_sweep

	n=$_LAB_SEQ
	_LAB_SEQ=$((_LAB_SEQ + 1))
	ns="$_LAB_NS_PREFIX$BASHPID-$n"
	hif="xfh${BASHPID}x$n"
	nif="xfn${BASHPID}x$n"
	if [ ${#hif} -gt 15 ]; then
		_lab_err "interface name $hif is too long"
		return 1
	fi
	[ -n "$queues" ] && qargs=(numrxqueues "$queues" numtxqueues "$queues")

	exec {lockfd}>"$_LAB_LOCK" || return 1
	flock -w 30 "$lockfd" || { _lab_err "could not take $_LAB_LOCK"; exec {lockfd}>&-; return 1; }
	if ! sub=$(_lab_pick_subnet); then
		_lab_err "no free /24 left in 198.18.0.0/15"
		exec {lockfd}>&-
		return 1
	fi
	read -r b c <<<"$sub"
	hip="198.$b.$c.1"
	nip="198.$b.$c.2"

	# From here on, lab_down undoes whatever part got done.
	_LAB_LIST="$_LAB_LIST $ns:$hif"
	if ! ip netns add "$ns"; then
		exec {lockfd}>&-
		_lab_err "ip netns add $ns failed"
		return 1
	fi
	if ! ip link add name "$hif" "${qargs[@]}" type veth \
			peer name "$nif" "${qargs[@]}" netns "$ns"; then
		exec {lockfd}>&-
		_lab_err "creating the veth pair $hif/$nif failed"
		_lab_delete "$ns" "$hif"
		return 1
	fi
	# No IPv6 on the lab links: nothing but the test's frames on them.
	_lab_sysctl "" "net.ipv6.conf.$hif.disable_ipv6" 1
	_lab_sysctl "$ns" "net.ipv6.conf.$nif.disable_ipv6" 1
	_lab_sysctl "$ns" "net.ipv6.conf.default.disable_ipv6" 1
	if [ -n "$mtu" ]; then
		if ! ip link set dev "$hif" mtu "$mtu" ||
		   ! ip -n "$ns" link set dev "$nif" mtu "$mtu"; then
			exec {lockfd}>&-
			_lab_err "setting MTU $mtu failed"
			_lab_delete "$ns" "$hif"
			return 1
		fi
	fi
	hmac=$(cat "/sys/class/net/$hif/address")
	nmac=$(ip netns exec "$ns" cat "/sys/class/net/$nif/address")
	if ! ip addr add "$hip/24" dev "$hif" ||
	   ! ip -n "$ns" addr add "$nip/24" dev "$nif" ||
	   ! ip neigh replace "$nip" lladdr "$nmac" dev "$hif" nud permanent ||
	   ! ip -n "$ns" neigh replace "$hip" lladdr "$hmac" dev "$nif" nud permanent ||
	   ! ip -n "$ns" link set dev lo up ||
	   ! ip link set dev "$hif" up ||
	   ! ip -n "$ns" link set dev "$nif" up; then
		exec {lockfd}>&-
		_lab_err "configuring $hif/$nif failed"
		_lab_delete "$ns" "$hif"
		return 1
	fi
	exec {lockfd}>&-

	export LAB_NS=$ns LAB_HOST_IF=$hif LAB_NS_IF=$nif LAB_HOST_IP=$hip \
		LAB_NS_IP=$nip LAB_HOST_MAC=$hmac LAB_NS_MAC=$nmac LAB_PREFIX=24 \
		LAB_QUEUES=${queues:-1}
	return 0
}

# lab_exec CMD...: run CMD in the newest lab's namespace
lab_exec() {
	ip netns exec "$LAB_NS" "$@"
}

# lab_counter IF NAME [NS]: an interface statistic (rx_packets, tx_packets,
# rx_dropped, ...), read in NS if given
lab_counter() {
	if [ -n "${3:-}" ]; then
		ip netns exec "$3" cat "/sys/class/net/$1/statistics/$2"
	else
		cat "/sys/class/net/$1/statistics/$2"
	fi
}

# lab_has_xdp IF: 0 if an XDP program is attached to IF (caller's namespace)
lab_has_xdp() {
	ip link show dev "$1" 2>/dev/null | grep -q 'prog/xdp'
}

# lab_wait_xdp IF: wait (up to 5 s) until a receiver has attached its XDP
# program to IF, so that traffic sent next is not passed to the stack
lab_wait_xdp() {
	local _
	for _ in $(seq 100); do
		lab_has_xdp "$1" && return 0
		sleep 0.05
	done
	return 1
}
