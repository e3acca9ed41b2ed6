# BlueBlood trainer image for SageMaker training jobs (bring your own container).
#
#   docker build -t blueblood-trainer .
#   docker run --rm -v "$PWD/opt_ml:/opt/ml" blueblood-trainer train
#
# Build stage: a static Go binary (no cgo), so the runtime image needs nothing else.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# Only what the trainer is built from, so launcher or docs edits keep the build cached.
COPY container/ container/
COPY model/ model/
COPY pipeline/ pipeline/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/trainer ./container

# Runtime stage: an empty image holding only the binary. SageMaker runs
# `docker run IMAGE train`; the exec-form ENTRYPOINT receives "train" as its argument and
# SIGTERM directly (no shell, no tini). Nothing is put under /opt/ml, which SageMaker
# mounts, and the image runs as root because SageMaker writes /opt/ml as root.
FROM scratch
# Serving: the trainer's serve mode honours SAGEMAKER_BIND_TO_PORT, so SageMaker may pick the port.
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY --from=build /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]
