# ShopFlow: one image for every role; SERVICES picks what a container runs.

# --- build: compile TypeScript with the dev dependencies ---
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY config ./config
COPY mixins ./mixins
COPY services ./services
COPY test/tools ./test/tools
RUN npx tsc -p tsconfig.build.json

# --- runtime: production dependencies and the compiled code only ---
FROM node:22-bookworm-slim AS runtime
# MALLOC_*: scrypt's 16 MB blocks go back to the system instead of staying in glibc's thread arenas (README, "Memory").
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
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))" || exit 1
# DEP0174: moleculer-db promisifies NeDB methods that already return promises; harmless, silenced.
CMD ["node", "--enable-source-maps", "--disable-warning=DEP0174", "dist/config/start.js"]
