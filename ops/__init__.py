"""The local platform around the pipeline: tools built from registries, the local cluster,
the `make up`/`make down` orchestration and the service benchmark."""
