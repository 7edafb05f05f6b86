# syntax=docker/dockerfile:1
# mlp-registry: built from the Nx build output (tools/scripts/build.mjs → dist/services/registry/src/main.js).
#   docker build -f deploy/docker/registry.Dockerfile --build-arg GIT_SHA=$(git rev-parse HEAD) -t mlp-registry .
# Checked without a Docker engine by `node deploy/verify.mjs`.

# 1. Dependencies, with the toolchain native modules (DuckDB, SQLite) may need.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. Compile the service and the libraries it runs on, then drop the dev dependencies.
FROM deps AS build
COPY tsconfig.base.json ./
COPY tools/scripts ./tools/scripts
COPY libs ./libs
COPY services/registry ./services/registry
RUN node tools/scripts/build.mjs services/registry && npm prune --omit=dev

# 3. Runtime: compiled code and production node_modules only, as the unprivileged node user (uid 1000).
FROM node:20-bookworm-slim AS runtime
ARG GIT_SHA=
ENV NODE_ENV=production MLP_TRANSPORT=nats MLP_BIND_HOST=0.0.0.0 MLP_HOME=/data MLP_GIT_SHA=${GIT_SHA}
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME /data
EXPOSE 7104
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MLP_REGISTRY_PORT || 7104) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/services/registry/src/main.js"]
