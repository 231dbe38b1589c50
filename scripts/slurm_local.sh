#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to try `hydra/launcher=slurm` without a cluster
# (and for the tests): Debian's slurm-wlm and munge, slurmctld and slurmd on this host.
# Run as root.
#   bash scripts/slurm_local.sh          # start it; installs the packages when missing
#   bash scripts/slurm_local.sh stop     # stop the daemons this script started
# Starting again while the node is up returns at once.
set -euo pipefail

STATE=/var/lib/wdbench-slurm   # spool, state and pid files of this cluster
CONF=/etc/slurm/slurm.conf
LOGS=/var/log/slurm
HOST=$(hostname -s)

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1 || true; }
node_up() { [[ "$(node_state)" =~ ^(idle|mixed|allocated|completing)$ ]]; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
    for pidfile in "$STATE/slurmctld.pid" "$STATE/slurmd.pid" "$STATE/munged.pid"; do
        if alive "$pidfile"; then
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
    echo "slurm: stopped"
}

if [ "${1:-start}" = stop ]; then
    stop
    exit 0
fi

if command -v sinfo >/dev/null && alive "$STATE/slurmctld.pid" && node_up; then
    echo "slurm: already running, node $HOST $(node_state)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "error: run as root: it installs slurm-wlm and munge and starts their daemons" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v munged >/dev/null || ! command -v sinfo >/dev/null; then
    echo "slurm: installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
        --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge authenticates slurmctld and slurmd to each other; it runs as its own user.
mkdir -p "$STATE" "$LOGS" /etc/slurm /run/munge /var/lib/munge /var/log/munge /etc/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$STATE/munged.pid"
fi

# The node line as slurmd finds this machine: its real CPUs, sockets, cores and memory.
NODE=$(slurmd -C | head -1)
# cons_tres with CR_Core: jobs share the node core by core; memory is not a consumable, so a
# job's --mem only has to fit the machine. No accounting database: sacct cannot answer.
cat > "$CONF" <<EOF
# Written by wdbench's scripts/slurm_local.sh: a one-node cluster on $HOST.
ClusterName=wdbench
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
$NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$STATE/ctld" "$STATE/d"

alive "$STATE/slurmctld.pid" || slurmctld
alive "$STATE/slurmd.pid" || slurmd

for _ in $(seq 120); do
    node_up && break
    case "$(node_state)" in  # left down or drained by an earlier run of the daemons
        down*|drain*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
if ! node_up; then
    echo "error: slurm node $HOST is '$(node_state)', not idle; see $LOGS/slurmctld.log" \
         "and $LOGS/slurmd.log" >&2
    exit 1
fi
echo "slurm: running, node $HOST $(node_state): $NODE"
