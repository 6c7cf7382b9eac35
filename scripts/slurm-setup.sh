#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm test (test/cluster/slurm.test.ts) and for trying
# examples/cluster/slurm-grid.sh: munge (authentication) + slurmctld (controller) + slurmd (the node), all on
# localhost, from Debian's packages (apt-get install slurm-wlm munge; .ci/run installs them).
#
#   scripts/slurm-setup.sh start    configure and start the daemons (idempotent: running daemons are kept)
#   scripts/slurm-setup.sh stop     stop the daemons this script started (munged only if it started it)
#   scripts/slurm-setup.sh env      print the environment the Slurm commands need (SLURM_CONF=…)
#
# Everything lives in $DPIPE_SLURM_DIR (default /var/tmp/dpipe-slurm): slurm.conf, state, logs, pid files. The
# system's /etc/slurm is not touched; the commands find the configuration through SLURM_CONF. Needs root (slurmd
# runs jobs as their user, and the daemons' files are owned by root).
set -euo pipefail

DIR=${DPIPE_SLURM_DIR:-/var/tmp/dpipe-slurm}
CONF=$DIR/slurm.conf
NODE=$(hostname -s)
export SLURM_CONF=$CONF

die() { echo "slurm-setup: $*" >&2; exit 1; }
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  local cpus
  cpus=$(nproc)
  cat > "$CONF.new" <<EOF
# One-node cluster for dpipe's tests (written by scripts/slurm-setup.sh).
ClusterName=dpipe
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=60 State=UP OverSubscribe=YES
EOF
  mv "$CONF.new" "$CONF"
}

start_munge() {
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  [[ -f /etc/munge/munge.key ]] || {
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  touch "$DIR/munged.ours"
  for _ in $(seq 50); do
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "munged does not answer (see /var/log/munge/munged.log)"
}

start() {
  [[ $(id -u) == 0 ]] || die "run as root"
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || die "install Debian's slurm-wlm and munge first (apt-get install -y slurm-wlm munge)"
  write_conf
  start_munge
  alive "$DIR/slurmctld.pid" || slurmctld -f "$CONF"
  alive "$DIR/slurmd.pid" || slurmd -f "$CONF" -N "$NODE"
  # Wait (bounded) until the node takes jobs.
  for _ in $(seq 100); do
    state=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)
    case $state in
      idle|mixed|allocated) echo "slurm-setup: node $NODE $state (SLURM_CONF=$CONF)"; return 0 ;;
      down*|drain*) scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  die "the node did not become idle within 20 s (state: ${state:-none})"
}

stop() {
  for d in slurmd slurmctld; do
    if alive "$DIR/$d.pid"; then
      pid=$(cat "$DIR/$d.pid")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  if [[ -f $DIR/munged.ours ]]; then
    [[ -f /run/munge/munged.pid ]] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$DIR/munged.ours"
  fi
  echo "slurm-setup: stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) echo "SLURM_CONF=$CONF" ;;
  *) die "usage: $0 start|stop|env" ;;
esac
