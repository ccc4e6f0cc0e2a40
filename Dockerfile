# Lumina: one static binary. Build: docker build -t lumina .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY sdk/go.mod sdk/go.sum ./sdk/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/lumina ./cmd/lumina

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lumina /usr/local/bin/lumina
ENV LUMINA_DATA_DIR=/data
VOLUME /data
EXPOSE 8080 4318 4317 8081 8082 3000
USER nonroot
ENTRYPOINT ["/usr/local/bin/lumina"]
CMD ["serve"]
