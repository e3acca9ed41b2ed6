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

# Optional faster variant: gorgonia's matrix products through OpenBLAS (Debian's
# libopenblas-dev, linked statically), ~1.5-2x faster training at batch 32-128 but a ~49 MB
# binary. Build it with `docker build --target trainer-openblas -t blueblood-trainer:openblas .`
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

FROM scratch AS trainer-openblas
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
# ml.m5.xlarge has 2 physical cores (4 vCPUs); one BLAS thread per core measured best.
ENV OPENBLAS_NUM_THREADS=2
COPY --from=build-openblas /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]

# Runtime stage (the default target): an empty image holding only the binary. SageMaker runs
# `docker run IMAGE train`; the exec-form ENTRYPOINT receives "train" as its argument and
# SIGTERM directly (no shell, no tini). Nothing is put under /opt/ml, which SageMaker
# mounts, and the image runs as root because SageMaker writes /opt/ml as root.
FROM scratch
# Serving: the trainer's serve mode honours SAGEMAKER_BIND_TO_PORT, so SageMaker may pick the port.
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY --from=build /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]
