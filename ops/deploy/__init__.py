"""Development entry points: `make up` / `make down` (model -> image -> `pulumi up -s ENV`;
local: also run it on :8080) and `make serve` (ENV's model under gunicorn on localhost)."""
