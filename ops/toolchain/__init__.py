"""Project setup: builds and caches every tool the repository needs, from package registries."""
