"""`make bench`: the inference service against an in-process ceiling and a naive baseline."""
