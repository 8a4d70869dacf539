#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on localhost for the `slurm` tests (Debian slurm-wlm + munge,
# slurmdbd + MariaDB for accounting).
#
#   partitions: cpu (default) and gpu, both on the one node `localhost`; the node carries
#               fake GPUs (gres gpu:fake:N backed by mknod'ed char devices that act like /dev/null)
#   accounting: dbd (default: MariaDB + slurmdbd, so `sacct` works, as profiles/slurm needs), or
#               PREFSCOPE_SLURM_ACCOUNTING=none (profiles/slurm-noacct: status from squeue, and
#               MinJobAge=600 keeps finished jobs visible to squeue)
#
# Idempotent: installs only missing packages, rewrites the configs, (re)starts only daemons that are
# not running or whose config changed, then smoke-tests both partitions. Needs root, apt (or the
# packages already installed) and mknod. Exits non-zero with a one-line reason when SLURM cannot
# start. Undo with .ci/slurm-down.sh.
#
# Settings (environment):
#   PREFSCOPE_SLURM_ACCOUNTING  dbd | none                        (default dbd)
#   PREFSCOPE_SLURM_GPUS        number of fake GPUs on the node   (default 2)
#   PREFSCOPE_SLURM_MEM_MB      memory the node advertises, MB    (default 64000)
#   PREFSCOPE_SLURM_CPUS        CPUs the node advertises          (default: the machine's, at least 4)
#   PREFSCOPE_SLURM_CGROUP      auto | no                         (default auto)
# Memory: with `auto`, where the cgroup v1 memory controller is mounted and writable (root in a VM
# or a privileged container), slurmd confines every job to its --mem with cgroups (cgroup/v1,
# task/cgroup: a job above its mem_mb is OOM-killed, state OUT_OF_MEMORY). Elsewhere (cgroup v2
# without systemd, which Slurm 22.05 needs to delegate cgroups; `no`) memory is not enforced.
# Advertised CPUs and memory are bookkeeping: they let rules' threads and mem_mb requests fit on a
# small CI machine instead of pending forever (a job is still held to its own --mem).
# Time limits: OverTimeLimit=0 and KillWait=5, so a job is killed at most about 30 s (slurmctld's
# check interval) after its limit.
set -euo pipefail

ACCOUNTING="${PREFSCOPE_SLURM_ACCOUNTING:-dbd}"
N_GPUS="${PREFSCOPE_SLURM_GPUS:-2}"
MEM_MB="${PREFSCOPE_SLURM_MEM_MB:-64000}"
# the real CPU count: plain nproc obeys OMP_NUM_THREADS, which test runners set to 1
real_cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
CPUS="${PREFSCOPE_SLURM_CPUS:-$((real_cpus > 4 ? real_cpus : 4))}"
CGROUP="${PREFSCOPE_SLURM_CGROUP:-auto}"
NODE=localhost          # independent of the machine's hostname (slurmd -N)
CLUSTER=prefscope
STATE=/var/lib/prefscope-slurm   # pidfiles, spool, logs: everything this script starts lives here
ETC=/etc/slurm
export DEBIAN_FRONTEND=noninteractive

daemons=0   # set once daemons are being started: from then on a failure shows their logs
show_logs() {
  ((daemons)) || return 0
  for f in "$STATE"/log/slurmctld.log "$STATE"/log/slurmd.log "$STATE"/log/slurmdbd.log; do
    [[ -r "$f" ]] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
  done
  return 0
}
die() { show_logs; echo "slurm-up: FAILED: $*" >&2; trap - EXIT; exit 1; }
log() { echo "slurm-up: $*"; }
trap 'rc=$?; ((rc)) && { show_logs; echo "slurm-up: FAILED (exit $rc) at line $LINENO" >&2; }' EXIT

[[ "$ACCOUNTING" == none || "$ACCOUNTING" == dbd ]] ||
  die "PREFSCOPE_SLURM_ACCOUNTING must be 'none' or 'dbd', not '$ACCOUNTING'"
[[ "$N_GPUS" =~ ^[1-9][0-9]*$ ]] || die "PREFSCOPE_SLURM_GPUS must be a positive integer"
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || die "PREFSCOPE_SLURM_CPUS must be a positive integer"
[[ "$MEM_MB" =~ ^[1-9][0-9]*$ ]] || die "PREFSCOPE_SLURM_MEM_MB must be a positive integer"
[[ "$CGROUP" == auto || "$CGROUP" == no ]] || die "PREFSCOPE_SLURM_CGROUP must be 'auto' or 'no'"
[[ "$(id -u)" == 0 ]] || die "must run as root (it installs packages and starts system daemons)"

# ---- packages ------------------------------------------------------------------------------------
pkgs=(munge slurmctld slurmd slurm-client)
[[ "$ACCOUNTING" == dbd ]] && pkgs+=(slurmdbd mariadb-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "packages missing (${missing[*]}) and no apt-get to install them"
  log "installing ${missing[*]}"
  apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null || die "apt-get update failed"
  # postinst scripts try to start the daemons through invoke-rc.d; harmless without an init system
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    die "apt-get install ${missing[*]} failed"
fi
for b in munged slurmctld slurmd sbatch squeue sinfo srun scontrol; do
  command -v "$b" >/dev/null || die "'$b' not found after installing packages"
done

# ---- fake GPUs: gres/gpu needs File= to be a char device, or slurmd drops the GPUs ---------------
for ((i = 0; i < N_GPUS; i++)); do
  dev=/dev/prefscope-gpu$i
  [[ -c "$dev" ]] && continue
  rm -f "$dev"
  mknod "$dev" c 1 3 2>/dev/null ||
    die "cannot mknod $dev (no CAP_MKNOD, e.g. an unprivileged container): fake GPUs impossible"
done

mkdir -p "$STATE"/{ctld,d,log} "$ETC" /run/munge
chown -R slurm:slurm "$STATE"/ctld "$STATE"/log
chown munge:munge /run/munge

# ---- memory enforcement: cgroup v1 memory controller usable? -------------------------------------
MEMCG=/sys/fs/cgroup/memory
memory_cgroups() {
  [[ "$CGROUP" == auto ]] && grep -qE "^cgroup $MEMCG cgroup .*memory" /proc/mounts &&
    mkdir "$MEMCG/prefscope-probe" 2>/dev/null && rmdir "$MEMCG/prefscope-probe"
}
if memory_cgroups; then
  enforce="# jobs confined to their --mem by cgroup v1 (cgroup.conf): over it, the OOM killer acts
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup"
  cgroup_conf="CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
ConstrainCores=no
ConstrainDevices=no"
  memory=enforced
else
  enforce="# no cgroups: works in containers/VMs without systemd (22.05 rejects CgroupPlugin=disabled)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none"
  cgroup_conf=""
  memory="not enforced"
fi

# ---- configs (written to temp files; a daemon restarts only if its config changed) ---------------
if [[ "$ACCOUNTING" == dbd ]]; then
  acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageTRES=gres/gpu
# sacct shows the executor plugin's --comment (rule_<name>): the tests map SLURM jobs to rules
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux"
else
  acct="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
last=$((N_GPUS - 1))
new_slurm_conf=$(mktemp)
new_gres_conf=$(mktemp)
cat >"$new_slurm_conf" <<CONF
# Written by prefscope .ci/slurm-up.sh: a single-node test cluster. Do not edit; rerun the script.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
# pidfiles here, not in /run: Debian's prerm scancels if /run/slurmctld.pid exists
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
$enforce
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# a job without --mem gets 1 GB per CPU instead of the whole node
DefMemPerCPU=1000
SchedulerType=sched/backfill
# trust the node definition below (memory is advertised, not probed)
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
# finished jobs stay visible to squeue/scontrol for 10 min: the squeue status check relies on it
MinJobAge=600
# a job past its time limit is killed promptly: no grace minutes, SIGKILL 5 s after SIGTERM
OverTimeLimit=0
KillWait=5
JobCompType=jobcomp/none
$acct
GresTypes=gpu
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:fake:$N_GPUS State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE Default=NO MaxTime=INFINITE State=UP
CONF
cat >"$new_gres_conf" <<CONF
AutoDetect=off
NodeName=$NODE Name=gpu Type=fake File=/dev/prefscope-gpu[0-$last]
CONF

changed=0
install_conf() {  # install_conf NEW DEST MODE OWNER -> sets changed=1 if the content differs
  if ! cmp -s "$1" "$2"; then
    install -m "$3" -o "$4" -g "$4" "$1" "$2"
    changed=1
  fi
  rm -f "$1"
}
install_conf "$new_slurm_conf" "$ETC/slurm.conf" 644 root
install_conf "$new_gres_conf" "$ETC/gres.conf" 644 root
if [[ -n "$cgroup_conf" ]]; then
  new_cgroup_conf=$(mktemp)
  echo "$cgroup_conf" >"$new_cgroup_conf"
  install_conf "$new_cgroup_conf" "$ETC/cgroup.conf" 644 root
elif [[ -f "$ETC/cgroup.conf" ]]; then
  rm -f "$ETC/cgroup.conf"
  changed=1
fi

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop() {  # stop PIDFILE: TERM the recorded pid (never by name), wait up to 10 s
  local f="$1" pid
  if alive "$f"; then
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$f"
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "$what did not come up within ${secs}s"
}

daemons=1
# ---- munge ---------------------------------------------------------------------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  log "starting munged"
  su -s /bin/sh munge -c /usr/sbin/munged || die "munged failed to start"
  touch "$STATE/munged.started-by-us"   # slurm-down stops it via /run/munge/munged.pid
  wait_for 15 munged sh -c 'munge -n | unmunge'
fi

# ---- optional accounting database ----------------------------------------------------------------
if [[ "$ACCOUNTING" == dbd ]]; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! mariadb-admin ping >/dev/null 2>&1; then
    log "starting mariadb"
    (mysqld_safe --user=mysql --bind-address=127.0.0.1 >"$STATE/log/mysqld_safe.log" 2>&1 &)
    touch "$STATE/mariadb.started-by-us"
    wait_for 60 mariadb mariadb-admin ping
  fi
  mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm-ci';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  dbd_conf=$(mktemp)
  cat >"$dbd_conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=$STATE/log/slurmdbd.log
PidFile=$STATE/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm-ci
StorageLoc=slurm_acct_db
CONF
  install_conf "$dbd_conf" "$ETC/slurmdbd.conf" 600 slurm
  if ((changed)) || ! alive "$STATE/slurmdbd.pid"; then
    stop "$STATE/slurmdbd.pid"
    log "starting slurmdbd"
    slurmdbd || die "slurmdbd failed to start"
    wait_for 30 slurmdbd sacctmgr -n list cluster
  fi
  sacctmgr -i -Q add cluster "$CLUSTER" >/dev/null 2>&1 || true
else
  stop "$STATE/slurmdbd.pid"
fi

# ---- slurmctld + slurmd --------------------------------------------------------------------------
if ((changed)) || ! alive "$STATE/slurmctld.pid" || ! alive "$STATE/slurmd.pid"; then
  stop "$STATE/slurmd.pid"
  stop "$STATE/slurmctld.pid"
  log "starting slurmctld and slurmd"
  slurmctld || die "slurmctld failed to start"
  wait_for 30 slurmctld sh -c 'scontrol ping | grep -q UP'
  slurmd -N "$NODE" || die "slurmd failed to start"
fi

node_ready() { sinfo -h -n "$NODE" -o %T | grep -qE '^(idle|mixed|allocated|completing)'; }
for _ in $(seq 60); do
  node_ready && break
  # a node left DOWN/DRAIN by an earlier broken config comes back once the config is fixed
  scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
  sleep 0.5
done
node_ready || die "node $NODE not ready: $(sinfo -h -n "$NODE" -o '%T %E')"

# ---- smoke tests: one job per partition; the GPU job must see a GPU ------------------------------
timeout 60 srun -p cpu -t 1 -n 1 true 2>/dev/null || die "test job in partition 'cpu' did not run"
gpu_env=$(timeout 60 srun -p gpu -t 1 -n 1 --gpus=1 printenv CUDA_VISIBLE_DEVICES 2>/dev/null) ||
  die "test job in partition 'gpu' did not run"
[[ "$gpu_env" == 0 ]] || die "GPU test job saw CUDA_VISIBLE_DEVICES='$gpu_env', expected 0"

sinfo -o '%P %a %D %T %G'
log "OK (accounting=$ACCOUNTING, partitions cpu+gpu, $CPUS CPUs, $N_GPUS fake GPUs, memory $memory)"
