# BlueBlood trainer image for SageMaker training jobs and endpoints (bring your own
# container): the static trainer built on the host, in an empty image. One stage that
# pulls nothing, so a plain `docker build .` works with BuildKit and with the classic
# builder (DOCKER_BUILDKIT=0, engines without buildx), and without registry access:
#
#   CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/trainer-static ./container
#   docker build -t blueblood-trainer .
#   docker run --rm -v "$PWD/opt_ml:/opt/ml" blueblood-trainer train
#
# bin/trainer-static may also be the faster static OpenBLAS build (README, "Image
# builds"). To build the binary inside Docker instead (pulls golang), use container/build.Dockerfile:
#   docker build -f container/build.Dockerfile -t blueblood-trainer .
#
# SageMaker runs `docker run IMAGE train` (or serve); the exec-form ENTRYPOINT receives
# the argument and SIGTERM directly (no shell, no tini). Nothing is put under /opt/ml,
# which SageMaker mounts, and the image runs as root because SageMaker writes /opt/ml as
# root. Serving honours SAGEMAKER_BIND_TO_PORT, so SageMaker may pick the port.
FROM scratch AS trainer
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY bin/trainer-static /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]
