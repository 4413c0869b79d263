#!/bin/sh
# One Redis Cluster node in a container: it announces its own container address (not
# the 127.0.0.1 it would otherwise report), so clients and the other nodes on the
# network reach it by what CLUSTER SLOTS / CLUSTER NODES say.
set -eu
addr=$(hostname -i | cut -d' ' -f1)
exec redis-server --port 6379 --bind 0.0.0.0 --protected-mode no \
  --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
  --cluster-announce-ip "$addr" --repl-diskless-sync-delay 0 --appendonly yes --dir /data \
  "$@"
