# syntax=docker/dockerfile:1

# Debian (glibc) rather than Alpine: dynalite pulls in classic-level, whose
# prebuilt native binaries are built for glibc on linux-x64/arm64. Node 24 is
# the current LTS line (Node 20+ is required).
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
ENV NODE_ENV=production \
    RKMS_HOST=0.0.0.0 \
    RKMS_CONFIG=/etc/rkms/config.toml
WORKDIR /app
# package.json is needed at run time too: its "type": "module" makes dist/ ESM.
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, a dev dependency that is not
# installed here (dist/ comes from the build stage). The only other install
# script is classic-level's node-gyp-build, which merely picks a prebuilt
# binary and would compile one only if none fitted; the linux x64/arm64 glibc
# (N-API) binaries ship inside the package, so skipping the script loses
# nothing. Loading the module proves the binary is there and loads here.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "require('classic-level')"
COPY --from=build /app/dist ./dist

# The official image's `node` user, by number so that Kubernetes'
# runAsNonRoot can verify it. The app files stay root-owned: read-only to it.
USER 1000:1000

# No config file is baked in on purpose: mount one at /etc/rkms/config.toml
# (the Helm chart does), so an image never falls back to the embedded
# test-only KMS and store by accident.
EXPOSE 8080

# Slim images have no curl; Node's fetch does the probe. The port follows
# RKMS_PORT when set (set it if the config file moves [server] port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RKMS_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node runs as PID 1 and handles SIGTERM itself (graceful shutdown), so no
# init wrapper is needed.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
