# The operator's image: `jira-active-sync` (the entrypoint) and `jira-emulator`, statically linked
# (musl), on an empty base with CA certificates, running as UID/GID 65532. Nothing is written to
# the root filesystem, so `readOnlyRootFilesystem: true` works (the chart sets it).
#
#   docker build -t jira-active-sync:0.1.0 .          (or: podman build / buildah build)
#
# scripts/image builds the same runtime stage without a daemon or a registry (buildah, from binaries
# built on the host); keep the two in step.

ARG RUST_VERSION=1.89

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY . .
ENV CARGO_PROFILE_RELEASE_STRIP=true
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
    && env "CC_$(echo "$target" | tr - _)=musl-gcc" cargo build --release --locked --target "$target" \
        -p jira-active-sync -p jira-emulator --bins \
    && mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs \
    && cp "target/$target/release/jira-active-sync" "target/$target/release/jira-emulator" /rootfs/usr/local/bin/ \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >/rootfs/etc/passwd \
    && printf 'nonroot:x:65532:\n' >/rootfs/etc/group

FROM scratch AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="jira-active-sync" \
      org.opencontainers.image.description="Kubernetes operator that keeps Jira tickets in step with compliance tasks, in both directions (also carries jira-emulator)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/jira-active-sync"]
