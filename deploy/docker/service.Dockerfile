# syntax=docker/dockerfile:1
# The image of every Metaweave service, from one Dockerfile (docs/adr/0007-helm-chart-and-images.md).
# Build from the repository root, one image per service:
#
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=join-engine \
#     -t metaweave/join-engine:0.1.0 .
#
# (--target join-engine does the same). SERVICE is one of exchange-connector, nt4-connector,
# join-engine, password-service, projection-service. The workspace compiles once (tsc -> dist/,
# `npm run build`), so the build stage is shared by all five images and cached; each image then
# takes the compiled libraries, its own dist/apps/<service>, the production node_modules and the
# path resolver tools/bin/register-paths.cjs, and runs as user 10001 (the chart's runAsUser).
# scripts/helm-check.sh checks that every path copied here exists after `npm run build` and that
# each service's command starts.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG SERVICE=projection-service

# ---- build: the whole workspace, compiled as CI compiles it ----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# ---- production dependencies only (the lockfile's versions) -----------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime base: what every service needs ---------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
RUN groupadd --gid 10001 metaweave \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin metaweave
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY tools/bin/register-paths.cjs ./tools/bin/register-paths.cjs
COPY --from=build /src/dist/libs ./dist/libs
ENV MW_HTTP_HOST=0.0.0.0 \
    MW_HTTP_PORT=8080
EXPOSE 8080
USER 10001:10001

# ---- runtime with Samba's SAMR client library (the NT4 connector's Python bridge) -------------
FROM runtime AS runtime-samr
USER root
RUN apt-get update \
 && apt-get install --yes --no-install-recommends python3 python3-samba \
 && rm -rf /var/lib/apt/lists/*
# libs/samr looks for the bridge next to its compiled code first (dist/libs/samr/bridge/).
COPY libs/samr/bridge/samr_bridge.py ./dist/libs/samr/bridge/samr_bridge.py
USER 10001:10001

# ---- one stage per service: its own compiled app and its command ------------------------------
FROM runtime AS exchange-connector
COPY --from=build /src/dist/apps/exchange-connector ./dist/apps/exchange-connector
CMD ["node", "-r", "./tools/bin/register-paths.cjs", "dist/apps/exchange-connector/src/main.js"]

FROM runtime-samr AS nt4-connector
COPY --from=build /src/dist/apps/nt4-connector ./dist/apps/nt4-connector
CMD ["node", "-r", "./tools/bin/register-paths.cjs", "dist/apps/nt4-connector/src/main.js"]

FROM runtime AS join-engine
COPY --from=build /src/dist/apps/join-engine ./dist/apps/join-engine
# The default rules (MW_RULES_FILE defaults to config/rules/default.yaml; the chart mounts others).
COPY config/rules ./config/rules
CMD ["node", "-r", "./tools/bin/register-paths.cjs", "dist/apps/join-engine/src/main.js"]

FROM runtime AS password-service
COPY --from=build /src/dist/apps/password-service ./dist/apps/password-service
CMD ["node", "-r", "./tools/bin/register-paths.cjs", "dist/apps/password-service/src/main.js"]

FROM runtime AS projection-service
COPY --from=build /src/dist/apps/projection-service ./dist/apps/projection-service
CMD ["node", "-r", "./tools/bin/register-paths.cjs", "dist/apps/projection-service/src/main.js"]

# ---- the image --build-arg SERVICE asks for (the last stage is the default target) ------------
FROM ${SERVICE} AS service
