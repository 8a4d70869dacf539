#!/usr/bin/env bash
# Stop what .ci/slurm-up.sh started: slurmd, slurmctld, slurmdbd, and munged/MariaDB only if
# slurm-up started them. Processes are stopped by their recorded pid, never by name.
#   --purge   also remove the state directory, the configs it wrote and the fake GPU devices
# Safe to run when nothing is up.
set -uo pipefail
STATE=/var/lib/prefscope-slurm
ETC=/etc/slurm

stop() {  # stop PIDFILE: TERM, wait up to 10 s, then KILL
  local f="$1" pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    echo "slurm-down: stopped $(basename "$f" .pid) ($pid)"
  fi
  rm -f "$f"
}

# cancel leftover jobs first so slurmd does not leave orphaned job steps behind
if [[ -f "$STATE/slurmctld.pid" ]] && command -v scancel >/dev/null; then
  timeout 10 scancel --full --quiet --user="$(id -un)" 2>/dev/null
fi
stop "$STATE/slurmd.pid"
stop "$STATE/slurmctld.pid"
stop "$STATE/slurmdbd.pid"

if [[ -f "$STATE/mariadb.started-by-us" ]]; then
  timeout 30 mariadb-admin shutdown 2>/dev/null && echo "slurm-down: stopped mariadb"
  rm -f "$STATE/mariadb.started-by-us"
fi
if [[ -f "$STATE/munged.started-by-us" ]]; then
  stop /run/munge/munged.pid
  rm -f "$STATE/munged.started-by-us"
fi

if [[ "${1:-}" == --purge ]]; then
  rm -rf "$STATE" /dev/prefscope-gpu[0-9]*
  # only the files slurm-up wrote (it marks slurm.conf with its name)
  if grep -q "prefscope .ci/slurm-up.sh" "$ETC/slurm.conf" 2>/dev/null; then
    rm -f "$ETC/slurm.conf" "$ETC/gres.conf" "$ETC/slurmdbd.conf" "$ETC/cgroup.conf"
  fi
  echo "slurm-down: purged"
fi
exit 0
