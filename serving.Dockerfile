# The image the manifests in outputs/deploy/ run: MLServer with edgecloud's runtime, the same pins as `make measure`.
# Build from the project root: docker build -f serving.Dockerfile -t edgecloud-serving:latest .
FROM python:3.11-slim
WORKDIR /srv/edgecloud
COPY requirements.txt pyproject.toml ./
COPY lib lib
# torch from PyTorch's CPU index first (PyPI's Linux wheel pulls CUDA), at the version requirements.txt pins.
RUN pip install --no-cache-dir "$(grep '^torch==' requirements.txt)" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps -e .
ENV EDGECLOUD_ROOT=/srv/edgecloud
EXPOSE 8080 8081
CMD ["python", "-m", "edgecloud.serving_main", "/mnt/models"]
