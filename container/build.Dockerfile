# BlueBlood trainer image built inside Docker (needs the golang image from a registry):
#
#   docker build -f container/build.Dockerfile -t blueblood-trainer .                         # static OpenBLAS
#   docker build -f container/build.Dockerfile --target trainer-purego -t blueblood-trainer:purego .
#
# Without registry access, build the binary on the host and use the Dockerfile beside
# this one (README, "Build the trainer image"). The pure-Go stages come first because Docker's
# classic builder runs every stage before the target: --target trainer-purego then pulls
# one image and builds no OpenBLAS. The runtime stages end as the Dockerfile's one does.

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
# (README, "Speed"). The binary picks OpenBLAS's kernel from the CPU's features and
# one BLAS thread per data-parallel shard by itself; OPENBLAS_CORETYPE / OPENBLAS_NUM_THREADS
# override.
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

# Runtime stage (the default target): an empty image holding only the binary.
FROM scratch AS trainer
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
COPY --from=build-openblas /out/trainer /usr/local/bin/trainer
ENTRYPOINT ["/usr/local/bin/trainer"]
