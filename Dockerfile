# quorumvote images, one multi-stage file (docs/deploy.md "Containers"):
#   docker build -t quorumvote-coordinator .                        (the default, last stage)
#   docker build --target functions -t quorumvote-functions .        (serverless-offline, for compose)
#   docker build --target web -t quorumvote-web .                    (the web app and its /api proxy)
# Every setting comes from the environment (docs/operations.md "Settings").
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: bundle the coordinator and the functions with esbuild, build the web app ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
# A context with node_modules from `npm ci` on a Linux x64 host is used as is (no
# registry needed); without it the dependencies are installed here.
RUN test -x node_modules/.bin/esbuild || npm ci --no-audit --no-fund
RUN node scripts/build.mjs \
 && node node_modules/vite/bin/vite.js build --config web/vite.config.mts --outDir /out/web --emptyOutDir \
 && node_modules/.bin/esbuild local/web-main.ts --bundle --platform=node --target=node20 --format=cjs \
      --outfile=/out/web-server/main.js --log-level=warning \
 && mkdir -p /out/offline/local \
 && cp -r serverless.yml package.json dist /out/offline/ && rm -rf /out/offline/dist/coordinator \
 && cp local/offline-guard.cjs /out/offline/local/

# --- functions: the HTTP, WebSocket and invoke APIs under serverless-offline (local/CI only;
#     on AWS the same dist/functions bundles run on Lambda) ---
FROM ${NODE_IMAGE} AS functions
ENV NODE_ENV=production \
    HTTP_PORT=3000 WS_PORT=3001 LAMBDA_PORT=3002 \
    WS_ENDPOINT=http://127.0.0.1:3001 \
    SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
    NODE_OPTIONS="--require /app/local/offline-guard.cjs"
WORKDIR /app
COPY --from=build /out/offline/ ./
COPY --from=build /src/node_modules ./node_modules
USER node
EXPOSE 3000 3001 3002
CMD ["node_modules/.bin/serverless", "offline", "--useInProcess", "--host", "0.0.0.0"]

# --- web: the built app, /api and /ws proxied to the functions (WEB_API_HOST) ---
FROM ${NODE_IMAGE} AS web
ENV NODE_ENV=production WEB_HOST=0.0.0.0 WEB_PORT=8080
WORKDIR /app
COPY --from=build /out/web ./web
COPY --from=build /out/web-server ./web-server
USER node
EXPOSE 8080
CMD ["node", "web-server/main.js"]

# --- coordinator (default): one member of the coordinator cluster ---
FROM ${NODE_IMAGE} AS coordinator
# ADMIN_HOST 0.0.0.0: peers reach the node from other hosts; set ADVERTISE_URL to the
# address they use (its default says 127.0.0.1, which is only right on one machine).
ENV NODE_ENV=production ADMIN_HOST=0.0.0.0 ADMIN_PORT=4000
WORKDIR /app
COPY --from=build /src/dist/coordinator ./dist/coordinator
USER node
EXPOSE 4000
# The coordinator handles SIGTERM itself (hands leadership over, deregisters, exits 0),
# also as PID 1, so no init is needed for it.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ADMIN_PORT||4000)+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/coordinator/main.js"]
