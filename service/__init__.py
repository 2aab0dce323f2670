"""Inference service: TF-Serving REST, Open Inference Protocol v2 and /predict under gunicorn."""
