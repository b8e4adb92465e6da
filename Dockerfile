# Build: the release binary. Runtime: a slim Debian with only what the binary needs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin therapist-directory

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 directory
COPY --from=build /src/target/release/therapist-directory /usr/local/bin/therapist-directory
USER directory
ENV APP_HOST=0.0.0.0 APP_PORT=8080 APP_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["therapist-directory"]
CMD ["serve"]
