# Container init: pid 1 of a container's PID namespace (started by
# `unshare --uts --mount --pid --fork` inside the pod's network namespace).
# Mounts the pod's /sys (sysfs shows the network namespace of its mounter).
# Sets the hostname in the container's own UTS namespace, bind-mounts its
# volumes in its own mount namespace (private: nothing leaks to the host),
# runs the command as its child and forwards TERM/INT to it (a plain command
# as pid 1 would ignore SIGTERM without a handler), then records the exit
# status and time in EXIT_FILE, which a restarted agent reads for containers
# it did not start itself.
# Usage: sh container-init.sh HOSTNAME EXIT_FILE WORKDIR FSTAB CMD [ARG...]
host=$1 exitfile=$2 workdir=$3 fstab=$4
shift 4
# Traps first: pid 1 of a namespace ignores a signal it has no handler for, so
# a TERM arriving while the volumes are mounted would otherwise be lost and the
# container would run on until SIGKILL. One that comes before the command
# starts stops it from starting.
child= stop=
# Passes signal $1 on to the command. A signal that reaches the forked child
# before it has reset our traps and exec'd the command is taken by the shell's
# handler in the child and dropped, so first wait (builtin tests only, bounded)
# until the child is no longer this shell's binary.
forward() {
  [ -n "$child" ] || return 0
  n=0
  while [ $n -lt 5000 ] && [ /proc/$child/exe -ef /proc/$$/exe ]; do n=$((n + 1)); done
  kill -$1 $child 2>/dev/null
}
trap 'stop=TERM; forward TERM' TERM
trap 'stop=INT; forward INT' INT
record() {
  printf '%s %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$exitfile"
  exit "$1"
}
printf %s "$host" > /proc/sys/kernel/hostname || exit 126
# The pod's /sys and all the volumes in one `mount --all` of the container's
# mount table (bind or bind,ro lines, in order: util-linux binds and remounts
# read-only itself).
if ! mount --all --fstab "$fstab"; then
  echo "kubewire: cannot mount what $fstab lists" >&2
  exit 126
fi
if [ -n "$workdir" ] && ! cd "$workdir"; then
  echo "kubewire: cannot enter working directory $workdir" >&2
  exit 126
fi
case $stop in TERM) record 143 ;; INT) record 130 ;; esac
"$@" &
child=$!
# A signal between the check above and `child` being set: pass it on now.
[ -z "$stop" ] || forward $stop
wait $child
status=$?
# `wait` also returns when a trapped signal arrives: wait again until the child is gone.
while kill -0 $child 2>/dev/null; do
  wait $child
  status=$?
done
record "$status"
