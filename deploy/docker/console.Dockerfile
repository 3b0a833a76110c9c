# syntax=docker/dockerfile:1
# The console's image: the built single-page app (dist/console) and its dependency-free static
# server (apps/console/server/serve.mjs, docs/console.md, docs/adr/0060), nothing else: no
# node_modules, no service code. Build from the repository root:
#
#   docker build -f deploy/docker/console.Dockerfile -t metaweave/console:0.1.0 .
#
# Runs as user 10001 (the chart's runAsUser) on port 7110; the chart sets MW_CONSOLE_PROJECTION_URL
# and MW_CONSOLE_PASSWORD_URL. scripts/helm-check.sh checks the paths copied here and that the
# command starts and stops at configuration validation (exit 78) on an empty environment.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: the console's bundle (vite), as `npm run console:build` makes it ------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY apps/console ./apps/console
COPY libs ./libs
RUN npm run console:build

# ---- runtime: node and two paths ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS console
WORKDIR /app
RUN groupadd --gid 10001 metaweave \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin metaweave
COPY apps/console/server/serve.mjs ./apps/console/server/serve.mjs
COPY --from=build /src/dist/console ./dist/console
ENV MW_CONSOLE_HOST=0.0.0.0 \
    MW_CONSOLE_PORT=7110
EXPOSE 7110
USER 10001:10001
CMD ["node", "apps/console/server/serve.mjs"]
