# inkflow: one static binary in a small image.
#
#   docker build -t inkflow .
#   docker run -p 8080:8080 -v inkflow-data:/data inkflow            # SQLite in /data
#   docker run -e DATABASE_URL=postgres://... -p 8080:8080 inkflow    # PostgreSQL
#
# The editor bundle and the generated templ files are committed, so the build needs Go only.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: the SQLite driver is pure Go, so the binary is static and runs on any base.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/inkflow . \
 && mkdir -p /out/data/uploads

FROM gcr.io/distroless/static-debian12:nonroot
# nonroot is uid 65532. The defaults (sqlite://data/inkflow.db, data/uploads) resolve under
# /data from the working directory /: mount a volume there to keep them.
COPY --from=build /out/inkflow /usr/local/bin/inkflow
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /
USER 65532:65532
ENV INKFLOW_ADDR=:8080 \
    INKFLOW_LOG_FORMAT=json
EXPOSE 8080
# Distroless has no curl: the binary asks its own /readyz.
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s CMD ["/usr/local/bin/inkflow", "ready"]
ENTRYPOINT ["/usr/local/bin/inkflow"]
CMD ["serve"]
