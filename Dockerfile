# One image for every service of rnull-cluster. docker-compose.yml picks the service with
# `command: ["node", "dist/services/<name>/src/main.js"]`; the default CMD is dispatch.
#
#   docker build --target runtime -t rnull-cluster .
#   docker run --rm -e REDIS_URL=redis://host:6379 -e HTTP_HOST=0.0.0.0 rnull-cluster \
#     node dist/services/gendisk/src/main.js
#
# Install scripts are skipped in both stages (--ignore-scripts): none is needed to compile
# or to run (README, "npm 11 reports that some packages' install scripts are not approved").

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, the TypeScript sources, `npm run build` into dist/ -------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY proto ./proto
COPY libs ./libs
COPY services ./services
COPY tools ./tools
RUN npm run build

# ---- runtime: production dependencies, dist/ and the files loaded at run time ----------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json also carries the "imports" map (#dispatch, #proto/* … → dist/…).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# @grpc/proto-loader reads proto/blk/v1/*.proto at run time (libs/proto/src/proto-files.ts
# looks in /app/proto from dist/libs/proto/src).
COPY proto ./proto
# The Lua scripts are read at run time: luaDir() in libs/redis-mq/src/lua-scripts.ts looks
# from dist/libs/redis-mq/src back into the source tree, libs/redis-mq/src/lua.
COPY libs/redis-mq/src/lua ./libs/redis-mq/src/lua
# rnullctl runs from dist/ without TypeScript (the one-shot rnullb0 service uses it).
COPY bin ./bin
USER node
# Health checks live in docker-compose.yml (each service has its own HTTP port).
CMD ["node", "dist/services/dispatch/src/main.js"]
