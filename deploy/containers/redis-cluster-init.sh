#!/bin/sh
# Forms the Redis Cluster once (3 masters + 3 replicas) from the node names given as
# arguments, then waits until it is ready: cluster_state:ok on every node and every
# master's replica online. Run again on a formed cluster, it only waits.
set -eu
addrs=""
for name in "$@"; do
  ip=""
  for _ in $(seq 1 150); do
    ip=$(getent hosts "$name" | cut -d' ' -f1 | head -n1)
    [ -n "$ip" ] && redis-cli -h "$ip" ping >/dev/null 2>&1 && break
    ip=""
    sleep 0.2
  done
  [ -n "$ip" ] || { echo "redis-cluster-init: $name does not answer" >&2; exit 1; }
  addrs="$addrs $ip:6379"
done
first=${addrs# }; first=${first%% *}
if ! redis-cli -h "${first%:*}" cluster info | grep -q 'cluster_state:ok'; then
  # shellcheck disable=SC2086
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
fi
for _ in $(seq 1 300); do
  ready=yes
  for a in $addrs; do
    redis-cli -h "${a%:*}" cluster info | grep -q 'cluster_state:ok' || ready=no
    info=$(redis-cli -h "${a%:*}" info replication)
    if echo "$info" | grep -q 'role:master'; then
      echo "$info" | grep -q 'state=online' || ready=no
    fi
  done
  if [ "$ready" = yes ]; then echo "redis-cluster-init: cluster ready:$addrs"; exit 0; fi
  sleep 0.2
done
echo "redis-cluster-init: cluster not ready in time" >&2
exit 1
