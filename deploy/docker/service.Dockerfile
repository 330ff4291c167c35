# One image for both services and the operator command; SERVICE picks the
# entry point (capture | writer), and `tributary …` runs in any container of it
# (`docker compose exec writer tributary status`).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no
# build step: the image holds the workspace with production dependencies only.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY tools/package.json ./tools/package.json
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
ARG SERVICE
ENV SERVICE=${SERVICE}
# The workspace's commands (`tributary`), configured by the same environment.
ENV PATH=/app/node_modules/.bin:${PATH}
USER node

# `exec` replaces the shell, so SIGTERM reaches node directly for a graceful drain.
CMD ["sh", "-c", "exec node services/${SERVICE}/src/main.ts"]
