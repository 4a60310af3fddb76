# syntax=docker/dockerfile:1

# Debian (glibc) rather than Alpine: the build stage installs dynalite's
# classic-level, whose prebuilt native binaries are built for glibc on
# linux-x64/arm64. Node 24 is the current LTS line (Node 20+ is required).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything and compile src/ to dist/ -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` runs the `prepare` script, which is the build (tsc -> dist/), so the
# sources must be in place before it.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---- runtime: production dependencies and dist/ only -----------------------
FROM ${NODE_IMAGE} AS runtime
# NODE_OPTIONS bounds V8's old generation. Without a bound V8 sizes the heap from
# the machine and lets a busy replica's garbage stay resident: 100,000 cached
# keys grew the RSS by 134 MB without it and by 40–46 MB with it (bench/,
# scenario h; one cached key holds about 300 bytes). The Helm chart sets the
# same flag from heapLimitMb; the benchmark starts RKMS with this line's value.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=192" \
    RKMS_HOST=0.0.0.0 \
    RKMS_CONFIG=/etc/rkms/config.toml
WORKDIR /app
# package.json is needed at run time too: its "type": "module" makes dist/ ESM.
COPY package.json package-lock.json ./
# --omit=optional: dynalite, the embedded test store, and its LevelDB native
# binding (classic-level) stay out of the image; RKMS imports dynalite only
# when [embedded] dynamodb is on, which the image's config never asks for.
# --ignore-scripts: `prepare` would run tsc, a dev dependency that is not
# installed here (dist/ comes from the build stage). The only install script
# left among the runtime dependencies is protobufjs's postinstall, a version
# check that changes nothing.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The gRPC service's .proto files, read at start (and served by reflection).
COPY proto ./proto
# Loading the CLI loads every module the production path imports statically:
# the build fails here, not in a pod, if one of them was left out above.
RUN node dist/cli/main.js --help > /dev/null

# The official image's `node` user, by number so that Kubernetes'
# runAsNonRoot can verify it. The app files stay root-owned: read-only to it.
USER 1000:1000

# No config file is baked in on purpose: mount one at /etc/rkms/config.toml
# (the Helm chart does), so an image never falls back to the embedded
# test-only KMS and store by accident.
EXPOSE 8080

# No HEALTHCHECK: Kubernetes probes /healthz and /readyz itself (the Helm
# chart), and a port baked in here could disagree with the config's.

# Node runs as PID 1 and handles SIGTERM itself (graceful shutdown), so no
# init wrapper is needed.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
