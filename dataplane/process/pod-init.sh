# Pod init: pid 1 of a pod's PID namespace (started by `unshare --pid --fork`).
# Sets the pod's hostname in its own UTS namespace, runs the container command
# as its child and forwards TERM/INT to it. A plain command as pid 1 would ignore
# SIGTERM (the kernel only delivers it to a namespace's init if it has a handler),
# so a graceful stop would always end in SIGKILL.
# Usage: sh pod-init.sh HOSTNAME CMD [ARG...]
printf %s "$1" > /proc/sys/kernel/hostname || exit 126
shift
"$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM
trap 'kill -INT $child 2>/dev/null' INT
wait $child
status=$?
# `wait` also returns when a trapped signal arrives: wait again until the child is gone.
while kill -0 $child 2>/dev/null; do
  wait $child
  status=$?
done
exit $status
