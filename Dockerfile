# syntax=docker/dockerfile:1
# Minimal non-root image of the karmada-takeover release binary.
# Used by the Helm chart's default image (ghcr.io/karmada-takeover/karmada-takeover:<appVersion>).
#
#   docker build -t ghcr.io/karmada-takeover/karmada-takeover:0.1.0 .
#
# The runtime stage is distroless "cc" (glibc + libgcc, CA certificates, no shell, no package
# manager) running as uid/gid 65532, matching the chart's securityContext. The binary needs no
# writable filesystem: the chart runs it with readOnlyRootFilesystem.

ARG RUST_VERSION=1.88

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first so they are cached across source changes.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > benches/engine.rs \
 && cargo fetch --locked
COPY src ./src
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile production --locked --bin karmada-takeover \
 && install -D -m 0755 target/production/karmada-takeover /out/karmada-takeover

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="karmada-takeover" \
      org.opencontainers.image.description="Admission webhook and policy engine that takes existing member-cluster workloads over into Karmada" \
      org.opencontainers.image.source="https://github.com/karmada-takeover/karmada-takeover" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/karmada-takeover /usr/local/bin/karmada-takeover
USER 65532:65532
# 8443: HTTPS webhooks (--listen); 8080: plain-HTTP admin (--admin-listen: /metrics, /healthz, /readyz).
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/karmada-takeover"]
CMD ["serve"]
