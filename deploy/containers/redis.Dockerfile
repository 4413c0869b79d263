# Redis for the containerized cluster (compose.yaml): Debian bookworm's redis-server 7.0,
# installed from .deb files in the build context (`npm run containers` puts them there
# from the host's apt), so no package mirror or registry is needed at build time.
# Elsewhere, the official `redis:7` image runs the same compose commands.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
COPY debs/ /tmp/debs/
RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs && mkdir -p /data && chown redis:redis /data
COPY redis-node.sh redis-cluster-init.sh /usr/local/bin/
WORKDIR /data
USER redis
EXPOSE 6379 16379
CMD ["redis-node.sh"]
