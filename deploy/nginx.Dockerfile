# The load balancer image: nginx with the built page and the repository's template (docker-compose.prod.yml).
FROM node:20 AS page
WORKDIR /app
COPY config ./config
COPY frontend/package.json frontend/package-lock.json ./frontend/
RUN npm ci --prefix frontend --no-audit --no-fund
COPY frontend ./frontend
RUN npm run build --prefix frontend

# 1.27.3 or newer: upstream servers re-resolved (`resolve`), so replicas that restart with new addresses are found.
FROM nginx:1.27-alpine
COPY --from=page /app/frontend/dist /usr/share/nginx/html
COPY deploy/nginx/default.conf.template /etc/nginx/templates/default.conf.template
