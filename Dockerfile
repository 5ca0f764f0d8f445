# fleetgraph: multi-stage image. No Docker daemon runs where this was written: the commands below are
# the ones test/integration/production-start.test.ts runs (build, production-only dependencies,
# `node dist/src/main.js`, the health check); see README, "Deployment".

# --- build: every dependency, compile TypeScript into dist/ ---
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY scripts ./scripts
COPY migrations ./migrations
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, compiled JavaScript, no sources, not root ---
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: typescript and ts-node are optional peers of typeorm ("devOptional" in the lock
# file), which --omit=dev alone would install.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY scripts/healthcheck.js ./scripts/healthcheck.js
# DATA_DIR only matters without DATABASE_URL (embedded PostgreSQL, one instance): keep it writable.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "scripts/healthcheck.js"]
# Pending migrations run at start (MIGRATE_ON_START=true). The service handles SIGTERM itself: it
# finishes requests, sends committed changes to subscribers, then closes sockets with 1001.
CMD ["node", "dist/src/main.js"]
