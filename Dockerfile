# ShopFlow: one image for every role; SERVICES picks what a container runs.

# --- build: compile the production code (tsconfig.build.json: no tests, no tools) and the pages, with the dev dependencies ---
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY config ./config
COPY mixins ./mixins
COPY services ./services
COPY web ./web
# The server code and the browser pages (web/ into dist/web, served by the gateway at / and /ops/).
RUN npx tsc -p tsconfig.build.json && npm run build:web

# --- runtime: production dependencies and the compiled code only ---
FROM node:22-bookworm-slim AS runtime
# MALLOC_*: scrypt's 16 MB blocks go back to the system instead of staying in glibc's thread arenas (docs/benchmarks.md, "Memory").
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/app/data \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=67108864
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
# 8080: the gateway (PORT); 9100: each node's metrics and health when METRICS_PORT=9100 (docker-compose.yml sets it).
EXPOSE 8080 9100
# Fits the node's role: a gateway node on PORT /health/ready, any other node on METRICS_PORT /health (config/boot/healthcheck.ts).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "dist/config/boot/healthcheck.js"]
# DEP0174: moleculer-db promisifies NeDB methods that already return promises; harmless, silenced.
CMD ["node", "--enable-source-maps", "--disable-warning=DEP0174", "dist/config/boot/start.js"]
