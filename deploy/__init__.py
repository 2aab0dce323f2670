"""`make up` / `make down`: model -> image -> `pulumi up -s ENV` (local: also run it on :8080)."""
