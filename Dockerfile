# Builds the feedbackloop binary (API, worker, GraphiQL) into a small image.
# It has no shell or curl: health checks run `/feedbackloop healthcheck`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/feedbackloop .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedbackloop /feedbackloop
EXPOSE 8080
ENTRYPOINT ["/feedbackloop"]
