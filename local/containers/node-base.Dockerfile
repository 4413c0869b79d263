# Stand-in for the official node:22-bookworm-slim image where no registry is reachable
# (`npm run containers` tags it with that name so the production Dockerfile builds
# unchanged with --pull=never): Debian bookworm (debootstrap) + this host's node and npm
# + the `node` user (uid 1000) of the official image. The node inside is the host's
# version (20 here), not 22.
FROM debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node
CMD ["node"]
