"""`make bench`: the inference service against an in-process ceiling, a naive baseline, the
servers a user would pick instead, the machine's measured peak and faster candidate backends."""
