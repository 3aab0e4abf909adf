# One image for every role; ROLE (all | realtime | bot) picks what a container runs.
# Stages: manifests → build (all deps; builds the web app and compiles the server) and deps (production deps only)
# → runtime (non-root): compiled JavaScript, production node_modules and the files read at run time, no sources.
ARG NODE_VERSION=26

# Only the package manifests: both install stages start from here, so npm ci is cached until a manifest changes.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY core/package.json core/
COPY realtime/package.json realtime/
COPY bot/package.json bot/
COPY server/package.json server/
COPY web/package.json web/
COPY bench/package.json bench/
COPY e2e/package.json e2e/

FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM manifests AS deps
# The workspace packages are bundled into dist/server/main.js: their links into the (absent) sources go.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
  && rm -rf node_modules/@livevote node_modules/.bin/livevote

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROLE=all \
    PORT=5000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# "type": "module" makes dist/server/main.js an ES module.
COPY package.json ./
COPY --from=build /app/dist/server ./dist/server
# Read at run time, found relative to the bundle: the Teams manifest and icons, and the built web app (without
# web/src the server serves web/dist as it is and never tries to build).
COPY manifests ./manifests
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches node directly (exec form, no shell): the process drains, then exits.
# Compiled JavaScript: no TypeScript loader in the process (tsx is for development).
# --max-semi-space-size=2: V8's young generation stays at 2 × 2 MiB instead of growing to 2 × 16 MiB under a burst
# of WebSocket handshakes or a fan-out and staying there (~30 MiB of RSS per instance that holds no connection's
# state); an A/B on bench:fanout's 1k and burst loads showed no worse fan-out latency, bench:rss the RSS with and without. The
# benchmarks start the bundle with the same flags (bench/lib/instances.ts, COMPILED_NODE_ARGS; compose.test.ts checks).
CMD ["node", "--max-semi-space-size=2", "dist/server/main.js", "start"]
