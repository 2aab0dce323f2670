"""The design-style baseline: JSON float lists in, one SavedModel call per request, sync workers.

Run as `gunicorn --worker-class sync "ops.bench.baseline_app:create_app()"` with MODEL_DIR set.
"""

import os

import numpy as np
from flask import Flask, Response, jsonify, request


def create_app() -> Flask:
    """Load the SavedModel (in the worker) and serve POST /predict {"instances": floats}."""
    import tensorflow as tf

    signature = tf.saved_model.load(os.environ["MODEL_DIR"]).signatures["serve_tensor"]
    app = Flask(__name__)

    @app.post("/predict")
    def predict() -> Response:
        rows = np.asarray(request.get_json()["instances"], dtype=np.float32)
        probabilities = signature(inputs=tf.constant(rows))["probabilities"].numpy()
        return jsonify({"predictions": probabilities.tolist()})

    return app
