# The therapist directory API as a container image: the release binary on a slim Debian.
#
# Build and run it by hand (any Docker with BuildKit or the classic builder):
#   docker build -t therapist-directory .
#   docker run --rm -p 8080:8080 \
#     -e DATABASE_URL=postgres://directory_app:…@db-host:5432/therapist_directory \
#     -e APP_DATABASE_OWNER_URL=postgres://directory:…@db-host:5432/therapist_directory \
#     -e APP_JWT_SECRET="$(openssl rand -hex 32)" \
#     therapist-directory                 # `serve`; or add: migrate | seed-demo --count 1000 | …
# The image sets APP_ENV=production: without DATABASE_URL it refuses to start instead of
# starting the embedded cluster. For the whole stack see docker-compose.yml and deploy/.

# ---- build: dependencies first, in their own layer, so editing src/ does not rebuild them
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The manifest, the lock file and the build script decide the dependency graph. Cargo.toml
# names targets outside src/ (an example in bench/, the test suite in tests/): stubs for
# them (kept, never built) and for the crate itself let `cargo build` fetch and compile
# every dependency here.
COPY Cargo.toml Cargo.lock build.rs ./
# The target processor (x86-64-v2 on x86-64): every crate is compiled for it.
COPY .cargo ./.cargo
RUN mkdir -p src bench tests/api migrations \
 && echo 'fn main() {}' >src/main.rs \
 && : >src/lib.rs \
 && echo 'fn main() {}' >bench/loadgen.rs \
 && : >tests/api/main.rs \
 && cargo build --release --locked --bin therapist-directory \
 && rm -rf src migrations
# The crate itself. `sqlx::migrate!("./migrations")` embeds migrations/ at compile time and
# build.rs reruns when it changes; src/ also embeds vendor/ (include_str!). The static SQL
# is checked against the committed offline data in .sqlx/ (no database at build time).
COPY src ./src
COPY migrations ./migrations
COPY vendor ./vendor
COPY .sqlx ./.sqlx
# Copied files keep their (older) timestamps: forget the stub crate's build so cargo cannot
# take it for up to date.
RUN rm -rf target/release/.fingerprint/therapist-directory-* \
           target/release/deps/therapist_directory-* target/release/deps/libtherapist_directory-* \
 && touch src/main.rs src/lib.rs \
 && SQLX_OFFLINE=true cargo build --release --locked --bin therapist-directory \
 && strip target/release/therapist-directory

# ---- runtime: only the binary, CA certificates (SMTP over TLS, TLS to PostgreSQL) and a user
FROM debian:bookworm-slim
# ca-certificates follows Debian's security updates: pinning its version would freeze them.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 directory \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin directory \
 && mkdir -p /app/var \
 && chown -R 10001:10001 /app/var
COPY --from=build /src/target/release/therapist-directory /usr/local/bin/therapist-directory
# Relative paths resolve here: the default APP_MAIL_DIR (./var/mail) is /app/var/mail, which
# the user can write (mount a volume or, on Kubernetes, an emptyDir at /app/var).
WORKDIR /app
USER 10001:10001
ENV APP_HOST=0.0.0.0 \
    APP_PORT=8080 \
    APP_LOG_FORMAT=json \
    APP_ENV=production
EXPOSE 8080
# `healthcheck` exits 0 when this instance's /readyz answers 200 (the search index is built,
# which takes a while on a large directory: hence the start period).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["therapist-directory", "healthcheck"]
# SIGTERM starts a graceful shutdown (APP_SHUTDOWN_TIMEOUT_SECS, default 30 s, for requests
# in flight): give the container longer than that to stop (compose: stop_grace_period 40s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["therapist-directory"]
CMD ["serve"]
