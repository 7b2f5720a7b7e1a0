# The backend image: gunicorn + the app + the bundled models (docker-compose.prod.yml builds it).
# TORCH_INDEX picks PyTorch's CPU-only wheels (~200 MB download instead of the CUDA build's several GB); build with
# --build-arg TORCH_INDEX= (empty) where that index is not reachable: PyPI alone then gives the CUDA build.
FROM python:3.11-slim
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# SCAN=1 keeps Ray in: the image for the nodes of a bulk-scan cluster (docs/DEPLOYMENT.md).
ARG SCAN=
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
# Serving needs neither Ray (bulk scans) nor the test tools: leave them out of the image.
RUN grep -v -E "^(${SCAN:+no-such-package}${SCAN:-ray}|pytest|schemathesis)" requirements.txt > requirements-serve.txt \
    && if [ -n "$TORCH_INDEX" ]; then pip install --index-url "$TORCH_INDEX" torch==2.14.1 torchvision==0.29.1; fi \
    && pip install -r requirements-serve.txt \
    && pip install --no-deps -r requirements-nodeps.txt
COPY config ./config
COPY pipeline ./pipeline
COPY backend ./backend
COPY training ./training
COPY commands ./commands
COPY models/*.pt models/*.onnx ./models/
RUN useradd --system --no-create-home app
USER app
ENV FLASK_MODEL_DIR=/app/models FLASK_STATIC_DIR=/nonexistent GUNICORN_BIND=0.0.0.0:5000
EXPOSE 5000
CMD ["gunicorn", "-c", "backend/gunicorn.conf.py", "backend:create_app()"]
