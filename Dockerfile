# BlueBlood trainer image for SageMaker training jobs (bring your own container).
#
#   docker build -t blueblood-trainer .                              # default: static OpenBLAS
#   docker build --target trainer-purego -t blueblood-trainer:purego .
#   docker run --rm -v "$PWD/opt_ml:/opt/ml" blueblood-trainer train
#
# Without registry access (no golang image), build the binary on the host and package it
# with the first target; README "The trainer image" shows the command. It comes first
# because Docker's classic builder runs every stage before the target, pulls included.
FROM scratch AS trainer-prebuilt
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY bin/trainer-static /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]

# Pure-Go build: a static binary without cgo.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# Only what the trainer is built from, so launcher or docs edits keep the build cached.
COPY container/ container/
COPY model/ model/
COPY pipeline/ pipeline/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/trainer ./container

FROM scratch AS trainer-purego
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY --from=build /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]

# The default build: gorgonia's matrix products through OpenBLAS (Debian's libopenblas-dev,
# linked statically), about 1.5-2x the pure-Go build's training speed at batch 32-128
# (README, "Speed"). The binary picks OpenBLAS's kernel from the CPU's features and one BLAS thread
# per data-parallel shard by itself; OPENBLAS_CORETYPE / OPENBLAS_NUM_THREADS override.
FROM golang:1.26 AS build-openblas
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY container/ container/
COPY model/ model/
COPY pipeline/ pipeline/
RUN CGO_ENABLED=1 go build -trimpath -tags 'openblas osusergo netgo' \
      -ldflags '-s -w -linkmode external -extldflags -static' -o /out/trainer ./container

# Runtime stage (the default target): an empty image holding only the binary. SageMaker runs
# `docker run IMAGE train`; the exec-form ENTRYPOINT receives "train" as its argument and
# SIGTERM directly (no shell, no tini). Nothing is put under /opt/ml, which SageMaker
# mounts, and the image runs as root because SageMaker writes /opt/ml as root.
FROM scratch AS trainer
# Serving: the trainer's serve mode honours SAGEMAKER_BIND_TO_PORT, so SageMaker may pick the port.
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY --from=build-openblas /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]
